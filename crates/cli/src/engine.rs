//! How `neglect` hands a command to `neglect-engine`: the engine binary sits beside `neglect`
//! (cargo builds and installs both into one folder) and is started in place of this process,
//! with the same arguments, so the process id, signals, exit code and terminal stay the same.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

/// The engine's file name.
pub const ENGINE_BIN: &str = "neglect-engine";

/// Overrides where the engine is looked for (a path to the binary).
pub const ENGINE_ENV: &str = "NEGLECT_ENGINE";

/// Where the engine binary is: `$NEGLECT_ENGINE`, else beside the running `neglect`.
pub fn engine_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(ENGINE_ENV) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("finding the running neglect binary")?;
    let dir = exe
        .parent()
        .context("the running neglect binary has no parent folder")?;
    Ok(dir.join(format!("{ENGINE_BIN}{}", std::env::consts::EXE_SUFFIX)))
}

/// Runs this invocation's arguments in the engine. On Unix the engine replaces this process
/// and this returns only on failure; elsewhere it waits for the engine and passes on its code.
pub fn hand_over() -> anyhow::Result<ExitCode> {
    let engine = engine_path()?;
    if !engine.is_file() {
        bail!(
            "this command runs a local model, which needs {ENGINE_BIN} (neglect linked with \
             libtorch), and {} does not exist. Build both binaries with `cargo build --release` \
             (or `make build`), or point {ENGINE_ENV} at the engine",
            engine.display()
        );
    }
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = std::process::Command::new(&engine);
    command.args(&args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = command.exec();
        Err(err).with_context(|| format!("starting {}", engine.display()))
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .with_context(|| format!("starting {}", engine.display()))?;
        Ok(ExitCode::from(
            status.code().unwrap_or(2).clamp(0, 255) as u8
        ))
    }
}
