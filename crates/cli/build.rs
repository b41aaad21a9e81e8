fn main() {
    // Only the engine links libtorch's CUDA part; `neglect` itself never loads libtorch.
    neglect_build_support::link_libtorch_into_bin("neglect-engine");
    // The git revision for `neglect --version`, when built from a checkout.
    let rev = std::process::Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!("cargo:rustc-env=NEGLECT_GIT_REV={rev}");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
}
