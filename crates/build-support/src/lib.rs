//! Called from the `build.rs` of every crate whose binaries or tests link libtorch.
//!
//! torch-sys finds libtorch and links it, but leaves two things to us:
//!
//! * **rpath.** Without it the binary only starts when the user sets `LD_LIBRARY_PATH`.
//!   We record the libtorch `lib/` folder as the binary's run path. `LD_LIBRARY_PATH` still
//!   wins, which is how a binary copied to another machine is pointed at that machine's torch.
//! * **CUDA linking.** rustc links with `--as-needed`; nothing of ours calls into
//!   `libtorch_cuda.so` directly, so the linker drops it and CUDA silently looks absent on a
//!   GPU machine (tch-rs issue #980). We link it with `--no-as-needed` whenever the CUDA
//!   runtime libraries beside it can really be loaded (the full PyPI install), and leave it
//!   out for the lean CPU install, where loading it would fail for lack of cuBLAS and cuDNN.
//!   `NEGLECT_LINK_CUDA=1|0` overrides the detection.
//!
//! torch-sys hands us the libtorch `lib/` folder as `DEP_TCH_LIBTORCH_LIB`, which cargo only
//! passes to packages that depend on torch-sys directly; that is why the crates calling this
//! name torch-sys in their `[dependencies]`.

use std::env;
use std::path::{Path, PathBuf};

/// Emits the link arguments and the `NEGLECT_*` compile-time variables read by `neglect-lm`,
/// for every binary, test and example of the calling crate.
pub fn link_libtorch() {
    link_libtorch_into(None);
}

/// As [`link_libtorch`], but CUDA is linked only into the binary named `bin` (and the crate's
/// tests): the `neglect` CLI crate keeps its front binary free of libtorch.
pub fn link_libtorch_into_bin(bin: &str) {
    link_libtorch_into(Some(bin));
}

fn link_libtorch_into(bin: Option<&str>) {
    println!("cargo:rerun-if-env-changed=NEGLECT_LINK_CUDA");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib_dir) = env::var("DEP_TCH_LIBTORCH_LIB") else {
        panic!(
            "DEP_TCH_LIBTORCH_LIB is not set: the crate calling link_libtorch() must depend on \
             torch-sys directly"
        );
    };
    let lib_dir = PathBuf::from(lib_dir);
    println!("cargo:rerun-if-changed={}", lib_dir.display());

    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());

    let link_cuda = match env::var("NEGLECT_LINK_CUDA").as_deref() {
        Ok("1") | Ok("true") | Ok("yes") => true,
        Ok("0") | Ok("false") | Ok("no") => false,
        _ => cuda_runtime_loadable(&lib_dir),
    };
    if link_cuda {
        for arg in ["-Wl,--no-as-needed", "-ltorch_cuda", "-Wl,--as-needed"] {
            match bin {
                None => println!("cargo:rustc-link-arg={arg}"),
                Some(bin) => {
                    println!("cargo:rustc-link-arg-bin={bin}={arg}");
                    println!("cargo:rustc-link-arg-tests={arg}");
                }
            }
        }
    }

    println!("cargo:rustc-env=NEGLECT_LIBTORCH_LIB={}", lib_dir.display());
    println!("cargo:rustc-env=NEGLECT_CUDA_LINKED={link_cuda}");
    println!(
        "cargo:rustc-env=NEGLECT_LIBTORCH_VERSION={}",
        torch_version(&lib_dir).unwrap_or_else(|| "unknown".to_owned())
    );
}

/// True when `libtorch_cuda.so` and everything it needs (cuBLAS, cuDNN, NCCL, ...) load here.
/// No GPU is needed for this: it only asks the dynamic loader.
fn cuda_runtime_loadable(lib_dir: &Path) -> bool {
    let cuda_lib = lib_dir.join("libtorch_cuda.so");
    if !cuda_lib.exists() {
        return false;
    }
    // SAFETY: loading runs the library's static initialisers, which only register CUDA hooks.
    unsafe { libloading::Library::new(&cuda_lib) }.is_ok()
}

/// Reads `__version__` from the `version.py` that sits beside `lib/` in a PyPI torch package.
fn torch_version(lib_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(lib_dir.parent()?.join("version.py")).ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("__version__")?;
        let value = rest.split('=').nth(1)?.trim();
        Some(value.trim_matches(|c| c == '\'' || c == '"').to_owned())
    })
}
