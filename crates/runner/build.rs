fn main() {
    neglect_build_support::link_libtorch();
}
