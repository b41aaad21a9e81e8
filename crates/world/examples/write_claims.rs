//! Writes the held-out claims of the default world as claim directories, and 100 positive and
//! 100 debunking documents per claim under `OUT_DIR/docs`.
//! cargo run -p neglect-world --example write_claims -- OUT_DIR [PER_ARCHETYPE]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = std::path::PathBuf::from(args.first().expect("OUT_DIR"));
    let n: usize = args.get(1).map_or(1, |s| s.parse().expect("PER_ARCHETYPE"));
    let config = neglect_world::WorldConfig::default();
    let world = neglect_world::World::generate(&config);
    for claim in neglect_world::generate_claims(&world, n, config.seed) {
        neglect_world::claim_dir::write_claim(&claim, &out, config.seed).expect("write");
        // Positive and debunking documents beside the claims, ready for `neglect annotate`.
        let docs = out.join("docs");
        std::fs::create_dir_all(&docs).expect("docs dir");
        for (name, rows) in [
            (
                "synth_docs",
                neglect_world::documents::claim_documents(&claim, 100, config.seed),
            ),
            (
                "debunk_docs",
                neglect_world::documents::debunk_documents(&claim, 100, config.seed),
            ),
        ] {
            let lines: Vec<String> = rows
                .iter()
                .map(|d| serde_json::to_string(d).expect("json"))
                .collect();
            std::fs::write(
                docs.join(format!("{}.{name}.jsonl", claim.slug)),
                lines.join("\n") + "\n",
            )
            .expect("write docs");
        }
        println!("{}: {}", claim.slug, claim.claim);
    }
}
