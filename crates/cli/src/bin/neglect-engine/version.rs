//! `neglect --version`: our version and the libtorch this binary runs on.

pub fn long() -> String {
    let rev = env!("NEGLECT_GIT_REV");
    let rev = if rev.is_empty() {
        String::new()
    } else {
        format!(" (git {rev})")
    };
    format!(
        "{}{rev}\n{}",
        env!("CARGO_PKG_VERSION"),
        neglect_lm::RuntimeInfo::current()
    )
}
