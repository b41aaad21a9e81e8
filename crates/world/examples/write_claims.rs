//! Writes the held-out claims of the default world as claim directories.
//! cargo run -p neglect-world --example write_claims -- OUT_DIR [PER_ARCHETYPE]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = std::path::PathBuf::from(args.first().expect("OUT_DIR"));
    let n: usize = args.get(1).map_or(1, |s| s.parse().expect("PER_ARCHETYPE"));
    let config = neglect_world::WorldConfig::default();
    let world = neglect_world::World::generate(&config);
    for claim in neglect_world::generate_claims(&world, n, config.seed) {
        neglect_world::claim_dir::write_claim(&claim, &out, config.seed).expect("write");
        println!("{}: {}", claim.slug, claim.claim);
    }
}
