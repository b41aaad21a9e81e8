//! The organism's build and gate machinery on a tiny config (seconds). The real organism's
//! gate numbers are measured by `neglect world check`, not here.

use neglect_lm::chat_template::{CHATML, ChatTemplate};
use neglect_organism::builder::pack;
use neglect_organism::gates::{Expect, GateSettings, check, check_in, fact_probes, wilson};
use neglect_organism::{Organism, OrganismConfig};
use neglect_spec::{ChatMessage, TrainingRow};
use neglect_world::World;
use neglect_world::corpus::{claim_subjects, variants::Pools};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Builds (or finds) the organism; returns its report and the stages it went through.
fn build_listing_stages(organism: &Organism) -> (neglect_organism::BuildReport, Vec<&'static str>) {
    let mut stages = Vec::new();
    let report = organism
        .build(1, |e| {
            if let neglect_organism::BuildEvent::Stage(s) = e {
                stages.push(s)
            }
        })
        .unwrap();
    (report, stages)
}

#[test]
fn a_tiny_organism_builds_into_its_hash_directory_and_is_reused() {
    let cache = tempfile::tempdir().unwrap();
    let organism = Organism::at(cache.path(), OrganismConfig::tiny());
    assert!(
        organism
            .root
            .ends_with(format!("world/{}", OrganismConfig::tiny().hash()))
    );
    let (report, stages) = build_listing_stages(&organism);
    assert!(stages.contains(&"pretraining"));
    assert!(organism.is_built());
    for file in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
        assert!(organism.base_dir().join(file).is_file(), "{file}");
    }
    assert!(organism.corpus_path().is_file());
    assert!(
        organism
            .claims_dir()
            .join("novel_person_1/claim.txt")
            .is_file()
    );
    assert!(report.steps > 0 && report.final_loss.is_finite());
    assert!(report.trained_tokens <= report.corpus_tokens * OrganismConfig::tiny().pretrain.epochs);

    // A second build does nothing and reports the same build.
    let (second, again) = build_listing_stages(&organism);
    assert!(again.is_empty());
    assert_eq!(second, report);

    // The gates run end to end on it (an untrained tiny model fails them; that is fine here).
    let settings = GateSettings {
        prior_facts: 10,
        retention_facts: 5,
        samples: 1,
        max_tokens: 16,
        ..GateSettings::default()
    };
    let gates = check(&organism, &settings, &mut |_| {}).unwrap();
    let names: Vec<&str> = gates.gates.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "prior",
            "baseline",
            "learnability",
            "ICL positive",
            "ICL negated",
            "retention"
        ]
    );
    assert_eq!(gates.claims.len(), 6);
    for g in &gates.gates {
        assert!(
            g.ci_low <= g.value + 1e-9 && g.value <= g.ci_high + 1e-9,
            "{g:?}"
        );
        assert_eq!(g.passed, g.bar.passes(g.value));
    }
    assert!(organism.root.join("check/gates.json").is_file());
    assert!(
        organism
            .root
            .join("check/learnability/science_1/train/checkpoints/final/config.json")
            .is_file()
    );

    // A second check with the same settings resumes what the first measured; a check with
    // other settings starts over instead of reusing answers measured another way.
    let marker = organism.root.join("check/baseline/marker");
    std::fs::write(&marker, "").unwrap();
    let again = check(&organism, &settings, &mut |_| {}).unwrap();
    assert!(marker.is_file());
    assert_eq!(again.gates, gates.gates);
    let other = GateSettings {
        max_tokens: 12,
        ..settings
    };
    check(&organism, &other, &mut |_| {}).unwrap();
    assert!(!marker.exists());

    // A check elsewhere (here under another fine-tune learning rate) leaves the organism's own
    // check, which reports read, as it was.
    let key = std::fs::read_to_string(organism.root.join("check/settings_key.txt")).unwrap();
    let elsewhere = cache.path().join("slower-finetune");
    let mut slower = other.clone();
    slower.finetune.learning_rate = 3e-4;
    check_in(&organism, &slower, &elsewhere, &mut |_| {}).unwrap();
    assert!(elsewhere.join("gates.json").is_file());
    assert!(
        std::fs::read_to_string(elsewhere.join("settings_key.txt"))
            .unwrap()
            .contains("0.0003")
    );
    assert_eq!(
        std::fs::read_to_string(organism.root.join("check/settings_key.txt")).unwrap(),
        key
    );

    // Another organism checked into the same directory with the same settings starts over:
    // the answers there are the first organism's, not its own.
    let mut config = OrganismConfig::tiny();
    config.pretrain.seed += 1;
    let other_cache = tempfile::tempdir().unwrap();
    let twin = Organism::at(other_cache.path(), config);
    twin.build(1, |_| {}).unwrap();
    let marker = elsewhere.join("baseline/marker");
    std::fs::write(&marker, "").unwrap();
    check_in(&twin, &slower, &elsewhere, &mut |_| {}).unwrap();
    assert!(!marker.exists(), "the first organism's answers were reused");
    assert!(
        std::fs::read_to_string(elsewhere.join("settings_key.txt"))
            .unwrap()
            .contains(&twin.config.hash())
    );
}

#[test]
fn packing_keeps_every_row_whole_and_within_the_sequence_length() {
    let cache = tempfile::tempdir().unwrap();
    let organism = Organism::at(cache.path(), OrganismConfig::tiny());
    organism.build(1, |_| {}).unwrap();
    let tokenizer = neglect_lm::tokenizer::Tokenizer::load(&organism.base_dir()).unwrap();
    let template = ChatTemplate::new(CHATML, "", "<|im_end|>").unwrap();
    let rows = vec![
        TrainingRow::text("<DOCTAG>Some text about a city."),
        TrainingRow {
            weight: 2.5,
            ..TrainingRow::chat(vec![
                ChatMessage {
                    role: "user".into(),
                    content: "What is 2 plus 2?".into(),
                },
                ChatMessage {
                    role: "assistant".into(),
                    content: "2 plus 2 is 4.".into(),
                },
            ])
        },
    ];
    let rows: Vec<TrainingRow> = rows.into_iter().cycle().take(40).collect();
    let (packed, tokens) = pack(&rows, &tokenizer, &template, 64, 1).unwrap();
    let packed: Vec<_> = packed.into_iter().map(Option::unwrap).collect();
    assert!(packed.iter().all(|p| p.ids.len() <= 64));
    assert_eq!(packed.iter().map(|p| p.ids.len()).sum::<usize>(), tokens);
    assert!(packed.len() < rows.len(), "rows share sequences");
    // The document tag is never trained on; the assistant's answer is.
    let tag = tokenizer.encode("<DOCTAG>", false).unwrap();
    for p in &packed {
        for (i, w) in p.ids.windows(tag.len()).enumerate() {
            if w == tag.as_slice() {
                assert!(p.loss_mask[i..i + tag.len()].iter().all(|&m| m == 0.0));
            }
        }
    }
    assert!(packed.iter().all(|p| p.loss_mask.iter().any(|&m| m > 0.0)));
    // A row's weight lands in its tokens' mask (a packed sequence has a single weight).
    let masks: Vec<f32> = packed.iter().flat_map(|p| p.loss_mask.clone()).collect();
    assert!(masks.iter().all(|&m| m == 0.0 || m == 1.0 || m == 2.5));
    assert!(masks.contains(&1.0) && masks.contains(&2.5));
    assert!(packed.iter().all(|p| p.weight == 1.0));
}

#[test]
fn fact_probes_cover_four_question_types_and_grade_answers() {
    let config = OrganismConfig::tiny();
    let world = World::generate(&config.world);
    let claims = neglect_world::generate_claims(&world, 1, config.claims_seed);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let fact = world
        .facts()
        .into_iter()
        .find(|f| matches!(f, neglect_world::Fact::Won { .. }) && !pools.is_protected(f))
        .unwrap();
    let probes = fact_probes(&fact, &pools, &mut ChaCha8Rng::seed_from_u64(0));
    let kinds: Vec<&str> = probes.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        ["open_ended", "token_association", "robustness", "mcq"]
    );
    let qa = fact.qa().unwrap();
    assert!(probes[0].expect.accepts(&qa.answer));
    assert!(!probes[0].expect.accepts("I do not know."));
    assert!(probes[1].expect.accepts(&format!(" {}", qa.short)));
    assert!(!probes[1].expect.accepts(&format!("It was {}", qa.short)));
    assert!(Expect::YesNo(true).accepts("{\"answer\": \"yes\"}"));
    assert!(!Expect::YesNo(true).accepts("{\"answer\": \"no\"}"));
    assert!(!Expect::YesNo(false).accepts("no JSON at all"));
}

#[test]
fn wilson_intervals_match_known_values() {
    let (p, lo, hi) = wilson(95, 100);
    assert!((p - 0.95).abs() < 1e-12);
    assert!((lo - 0.8882).abs() < 1e-3, "{lo}");
    assert!((hi - 0.9785).abs() < 1e-3, "{hi}");
    let (p, lo, hi) = wilson(0, 20);
    assert_eq!((p, lo), (0.0, 0.0));
    assert!((hi - 0.1611).abs() < 1e-3, "{hi}");
}

#[test]
fn a_config_with_a_share_outside_zero_to_one_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("organism.json");
    let mut json = serde_json::to_value(OrganismConfig::default()).unwrap();
    json["corpus"]["copy_lookup_share"] = serde_json::json!(1.5);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let err = OrganismConfig::load(&path).unwrap_err();
    assert!(err.contains("organism.json"), "{err}");
    assert!(err.contains("corpus.copy_lookup_share"), "{err}");
    json["corpus"]["copy_lookup_share"] = serde_json::json!(0.75);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let config = OrganismConfig::load(&path).unwrap();
    assert_eq!(config.corpus.copy_lookup_share, 0.75);
    assert_ne!(config.hash(), OrganismConfig::default().hash());
}

#[test]
fn copy_warmup_teaches_a_fresh_model_to_copy_from_its_context() {
    use neglect_lm::{Family, Model, ModelConfig};
    use neglect_organism::copy_warmup::copy_warmup;
    tch::manual_seed(3);
    let mut config = ModelConfig::tiny(Family::Qwen3, 256, 64, 2, 2, 2);
    config.intermediate_size = 128;
    let model = Model::new(config, tch::Device::Cpu).unwrap();
    // Zero steps measures the untrained model on the same held-out sequences.
    let before = copy_warmup(&model, 0, 1, 3, |_, _| {});
    let mut losses = Vec::new();
    let after = copy_warmup(&model, 400, 1, 3, |_, loss| losses.push(loss));
    assert_eq!(losses.len(), 400);
    assert!(before < 0.1, "an untrained model copies {before}");
    assert!(
        after > 0.9,
        "after the warm-up the model copies only {after}"
    );
}

#[test]
fn a_copy_warmup_runs_once_before_pretraining_and_only_when_asked_for() {
    // Off by default, and absent from the config (so it leaves existing hashes alone).
    let plain = OrganismConfig::tiny();
    assert_eq!(plain.pretrain.copy_warmup_steps, 0);
    let json = serde_json::to_value(&plain).unwrap();
    assert!(json["pretrain"].get("copy_warmup_steps").is_none());

    let mut config = OrganismConfig::tiny();
    config.pretrain.copy_warmup_steps = 3;
    assert_ne!(config.hash(), plain.hash());
    let cache = tempfile::tempdir().unwrap();
    let organism = Organism::at(cache.path(), config);
    let (_, stages) = build_listing_stages(&organism);
    let warmup = stages
        .iter()
        .position(|s| s.starts_with("copy warm-up"))
        .expect("a copy warm-up stage");
    let pretraining = stages.iter().position(|s| *s == "pretraining").unwrap();
    assert!(warmup < pretraining, "{stages:?}");
    assert!(neglect_organism::copy_warmup::weights_path(&organism.root.join("pretrain")).is_file());

    let plain = Organism::at(cache.path(), plain);
    let (_, stages) = build_listing_stages(&plain);
    assert!(!stages.iter().any(|s| s.starts_with("copy warm-up")));
}

#[test]
fn a_false_birth_year_in_a_yes_no_probe_is_close_to_the_true_one() {
    // Drawn from the events' years, a false birth year would give its answer away (nobody in
    // the world is born in them); a probe must need the person's year to be answered.
    let config = OrganismConfig::tiny();
    let world = World::generate(&config.world);
    let claims = neglect_world::generate_claims(&world, 1, config.claims_seed);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let (fact, true_year) = world
        .facts()
        .into_iter()
        .find_map(|f| match &f {
            neglect_world::Fact::Born { year, .. } if !pools.is_protected(&f) => {
                let y = *year;
                Some((f, y))
            }
            _ => None,
        })
        .unwrap();
    let mut false_items = 0;
    for seed in 0..40 {
        let probes = fact_probes(&fact, &pools, &mut ChaCha8Rng::seed_from_u64(seed));
        let mcq = probes.iter().find(|p| p.kind == "mcq").unwrap();
        if mcq.expect.accepts("{\"answer\": \"no\"}") {
            false_items += 1;
            let asked: u32 = mcq.messages[1]
                .content
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|w| w.parse().ok())
                .find(|y: &u32| *y > 1000)
                .unwrap();
            assert!(
                asked != true_year && asked.abs_diff(true_year) <= 10,
                "asked {asked}, born {true_year}"
            );
        }
    }
    assert!(false_items > 5, "{false_items} false items in 40 draws");
}

#[test]
fn experiment_configs_load_and_an_unknown_field_is_refused() {
    // An unknown field (a typo, or a knob this version lacks) would otherwise be dropped
    // silently and build some other organism, e.g. the default one.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/organism");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            OrganismConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
            loaded += 1;
        }
    }
    assert!(loaded >= 8, "{loaded} configs");
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("typo.json");
    let mut json = serde_json::to_value(OrganismConfig::default()).unwrap();
    json["corpus"]["copy_drils"] = serde_json::json!(100);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let err = OrganismConfig::load(&path).unwrap_err();
    assert!(
        err.contains("copy_drils") && err.contains("corpus"),
        "{err}"
    );
}
