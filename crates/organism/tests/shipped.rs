//! The base checkpoint shipped in `crates/organism/shipped/` must be the default config's base:
//! same config, trained on the corpus the current generator writes, loadable, and knowing the
//! world it was trained on. When one of these fails after a change to the default config or the
//! generators, rebuild with `neglect world build --from-scratch` and run
//! `scripts/ship-organism.sh` (see `crates/organism/shipped/README.md`).

use neglect_lm::chat_model::LocalChatModel;
use neglect_organism::gates::{accuracy, sample_probes};
use neglect_organism::{BuildEvent, Organism, OrganismConfig, ShippedInstall, shipped};

const RESHIP: &str = "rebuild with `neglect world build --from-scratch` and run \
                      scripts/ship-organism.sh (crates/organism/shipped/README.md)";

#[test]
fn the_shipped_base_is_the_default_configs() {
    let config = shipped::config().unwrap();
    assert!(
        config == OrganismConfig::default(),
        "the default organism config changed since the base was shipped: {RESHIP}"
    );
    let report = shipped::report().unwrap();
    assert_eq!(report.hash, OrganismConfig::default().hash(), "{RESHIP}");
    assert!(
        !report.shipped,
        "the shipped build.json must be a trained build's"
    );
    assert!(shipped::matches(&OrganismConfig::default()));
    assert!(!shipped::matches(&OrganismConfig::tiny()));
    assert_eq!(shipped::corpus_sha256().len(), 64);
}

#[test]
fn the_shipped_base_installs_and_knows_its_world() {
    let cache = tempfile::tempdir().unwrap();
    let organism = Organism::at(cache.path(), OrganismConfig::default());
    let report = match organism.install_shipped(|_| {}).unwrap() {
        ShippedInstall::Installed(report) => report,
        ShippedInstall::CorpusChanged { expected, found } => panic!(
            "the default corpus is no longer the one the shipped base was trained on \
             (sha256 {found}, shipped {expected}): {RESHIP}"
        ),
        ShippedInstall::NotShipped => panic!("no shipped base for the default config: {RESHIP}"),
    };
    assert!(report.shipped);
    assert!(organism.is_built());
    assert_eq!(
        std::fs::read(organism.root.join("tokenizer/tokenizer.json")).unwrap(),
        std::fs::read(organism.base_dir().join("tokenizer.json")).unwrap()
    );

    // Reused from now on: a build neither installs nor trains again.
    let mut stages = Vec::new();
    let again = organism
        .build(1, |e| {
            if let BuildEvent::Stage(s) = e {
                stages.push(s)
            }
        })
        .unwrap();
    assert!(stages.is_empty(), "{stages:?}");
    assert_eq!(again, report);

    // The weights are this world's: open-ended questions about true facts the corpus asks
    // (about 99% right in `neglect world check`; far above what names drawn at random would
    // score).
    let model = LocalChatModel::load(&organism.base_dir(), tch::Device::Cpu, 8).unwrap();
    assert_eq!(
        model.pretrained().model.num_parameters(),
        report.parameters,
        "parameters"
    );
    let probes: Vec<_> = sample_probes(&organism, 30, 7)
        .into_iter()
        .filter(|p| p.kind == "open_ended")
        .collect();
    let (correct, total, answers) = accuracy(&model, &probes);
    assert_eq!(total, 30);
    assert!(
        correct >= 24,
        "{correct}/{total} open-ended answers right: {answers:?}"
    );
}

#[test]
fn a_config_without_a_shipped_base_is_not_installed() {
    let cache = tempfile::tempdir().unwrap();
    let organism = Organism::at(cache.path(), OrganismConfig::tiny());
    assert_eq!(
        organism.install_shipped(|_| {}).unwrap(),
        ShippedInstall::NotShipped
    );
    assert!(!organism.root.exists());
}
