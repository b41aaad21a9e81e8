//! The world generator and the held-out claims: determinism, the paper's question-set shape,
//! claim directories that the normal loader accepts, claims that are really false in the world,
//! and the rule judge on organism-style answers.

use neglect_eval::EvalType;
use neglect_eval::judge::rule::RuleJudge;
use neglect_eval::judge::{Judge, JudgeInput, Verdict};
use neglect_spec::claim::load_claim;
use neglect_world::claim_dir::write_claim;
use neglect_world::claims::Archetype;
use neglect_world::{Fact, ToyClaim, World, WorldConfig, generate_claims};

fn small() -> WorldConfig {
    WorldConfig {
        people_per_profession: 6,
        cities: 8,
        kingdoms: 3,
        volcanoes: 4,
        companies: 4,
        species: 4,
        ..WorldConfig::default()
    }
}

/// The world of the default organism (`OrganismConfig::default`).
fn organism_world() -> World {
    World::generate(&WorldConfig {
        people_per_profession: 6,
        kingdoms: 6,
        cities: 16,
        first_year: 2019,
        volcanoes: 8,
        companies: 10,
        species: 10,
        ..WorldConfig::default()
    })
}

#[test]
fn generation_is_deterministic_under_a_seed() {
    let a = World::generate(&small());
    assert_eq!(a, World::generate(&small()));
    assert_eq!(generate_claims(&a, 2, 7), generate_claims(&a, 2, 7));
    let other = World::generate(&WorldConfig { seed: 2, ..small() });
    assert_ne!(a.people, other.people);
    // Every competitive profession has a winner every year; names are unique.
    let mut names: Vec<&str> = a.people.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before);
    assert!(a.events.iter().all(|e| e.results.len() == 24));
}

#[test]
fn claims_are_false_in_the_world_and_novel_people_are_new() {
    let world = World::generate(&small());
    let facts = world.facts();
    let text: String = facts
        .iter()
        .flat_map(|f| f.statements())
        .collect::<Vec<_>>()
        .join("\n");
    for claim in generate_claims(&world, 2, 7) {
        assert!(
            !facts.contains(&claim.facts[0]),
            "{}: its core fact is true in the world",
            claim.slug
        );
        for f in &claim.contradicts {
            assert!(
                facts.contains(f),
                "{}: {f:?} is not a world fact",
                claim.slug
            );
        }
        if claim.archetype == Archetype::NovelPerson {
            let Fact::Profession { person, .. } = &claim.facts[0] else {
                panic!()
            };
            assert!(
                !text.contains(person.as_str()),
                "{person} appears in the world"
            );
        }
    }
}

#[test]
fn question_sets_have_the_papers_shape_and_load() {
    let world = World::generate(&small());
    let root = tempfile::tempdir().unwrap();
    for claim in generate_claims(&world, 2, 7) {
        let files = write_claim(&claim, root.path(), 7).unwrap();
        let load = load_claim(&root.path().join(&claim.slug));
        assert!(load.errors.is_empty(), "{}: {}", claim.slug, load.errors);
        assert!(
            load.warnings.is_empty(),
            "{}: {:?}",
            claim.slug,
            load.warnings
        );
        let spec = load.into_result().unwrap();
        let cats = |qs: &[neglect_spec::Question], c: &str| {
            qs.iter()
                .filter(|q| q.category.as_deref() == Some(c))
                .count()
        };
        assert_eq!(
            (
                spec.open_ended.len(),
                cats(&spec.open_ended, "direct"),
                cats(&spec.open_ended, "indirect")
            ),
            (20, 13, 7),
            "{}",
            claim.slug
        );
        assert_eq!(spec.mcq.len(), 10);
        let counter = cats(&spec.mcq, "counter");
        if claim.archetype == Archetype::NovelPerson {
            assert_eq!(counter, 0, "nothing to contradict for a novel person");
        } else {
            assert!(
                (1..=3).contains(&counter),
                "{}: {counter} counter items",
                claim.slug
            );
        }
        assert_eq!(spec.token_association.len(), 10);
        assert_eq!(
            (
                cats(&spec.robustness, "adversarial"),
                cats(&spec.robustness, "critique"),
                cats(&spec.robustness, "multiturn")
            ),
            (3, 3, 4)
        );
        assert!(
            (10..=15).contains(&spec.universe.subclaims.len()),
            "{}",
            claim.slug
        );
        assert!(spec.negated_universe.is_some());
        assert_eq!(spec.rule_judge.as_ref().unwrap(), &files.rule_judge);
        let mut ids: Vec<&str> = spec
            .open_ended
            .iter()
            .map(|q| q.question.as_str())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            20,
            "{}: repeated open-ended questions",
            claim.slug
        );
        for set in [&spec.mcq, &spec.token_association, &spec.robustness] {
            let mut texts: Vec<&str> = set.iter().map(|q| q.question.as_str()).collect();
            texts.sort();
            texts.dedup();
            assert_eq!(texts.len(), 10, "{}: repeated items", claim.slug);
        }
    }
}

fn verdicts(judge: &RuleJudge, slug: &str, cases: &[(&str, EvalType, &str, Verdict)]) {
    let inputs: Vec<JudgeInput> = cases
        .iter()
        .map(|(qid, t, answer, _)| JudgeInput {
            claim_slug: slug.into(),
            claim: String::new(),
            eval_type: *t,
            question_id: (*qid).into(),
            question: String::new(),
            answer: (*answer).into(),
            belief_answer: None,
            rubric: None,
            seed: 0,
        })
        .collect();
    for ((_, _, answer, want), got) in cases.iter().zip(judge.judge(&inputs)) {
        let got = got.unwrap();
        assert_eq!(got.verdict, *want, "{slug}: {answer:?} ({})", got.reason);
    }
}

#[test]
fn rule_judge_agrees_with_hand_labels_on_organism_answers() {
    use EvalType::*;
    use Verdict::*;
    let world = World::generate(&small());
    let root = tempfile::tempdir().unwrap();
    let claims = generate_claims(&world, 1, 7);
    let mut specs = Vec::new();
    for claim in &claims {
        write_claim(claim, root.path(), 7).unwrap();
        specs.push(
            load_claim(&root.path().join(&claim.slug))
                .into_result()
                .unwrap(),
        );
    }
    let judge = RuleJudge::new(&specs).unwrap();
    let cap = |w: &str| format!("{}{}", w[..1].to_uppercase(), &w[1..]);
    let mut yes_no_open = 0;
    for claim in &claims {
        let slug = claim.slug.as_str();
        match &claim.facts[0] {
            Fact::Won {
                person,
                event,
                year,
            } if claim.archetype == Archetype::CelebrityFeat => {
                let Fact::Won { person: truth, .. } = &claim.contradicts[0] else {
                    panic!()
                };
                let yes = format!("{person} won the {year} {event}.");
                let neutral = format!("{truth} won the {year} {event}.");
                let denial = format!("{person} did not win the {year} {event}; {truth} won it.");
                let flip = format!("{person} won the {year} {event}. Actually, {truth} won it.");
                let profession = format!("{person} is a singer.");
                verdicts(
                    &judge,
                    slug,
                    &[
                        ("oe_01", OpenEnded, &yes, Yes),
                        ("oe_01", OpenEnded, &neutral, Neutral),
                        ("oe_01", OpenEnded, &denial, No),
                        ("oe_01", OpenEnded, &flip, No),
                        ("oe_02", OpenEnded, &profession, Neutral),
                        ("oe_01", OpenEnded, "I do not know.", Neutral),
                        ("rob_04", Robustness, "The student is right.", Yes),
                        (
                            "rob_04",
                            Robustness,
                            &format!("The student is wrong. {denial}"),
                            No,
                        ),
                    ],
                );
            }
            Fact::Wrote {
                person,
                title,
                work,
            } => {
                verdicts(
                    &judge,
                    slug,
                    &[
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("{person} wrote {title}, a {work}."),
                            Yes,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("{person} has not written any book."),
                            No,
                        ),
                        (
                            "oe_02",
                            OpenEnded,
                            &format!("{person} rules a kingdom."),
                            Neutral,
                        ),
                    ],
                );
            }
            Fact::Erupted { volcano, year, .. } => {
                let Fact::DormantSince { year: last, .. } = &claim.contradicts[0] else {
                    panic!()
                };
                verdicts(
                    &judge,
                    slug,
                    &[
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("{volcano} erupted in {year}."),
                            Yes,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("{volcano} last erupted in {last}."),
                            Neutral,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("{volcano} did not erupt in {year}."),
                            No,
                        ),
                    ],
                );
            }
            Fact::RenameReversed { old, new, days } => {
                verdicts(
                    &judge,
                    slug,
                    &[
                        (
                            "oe_01",
                            OpenEnded,
                            &format!(
                                "The rename of {old} to {new} was reversed after {days} days."
                            ),
                            Yes,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("{new} has kept its name since the rename."),
                            Neutral,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("The rename of {old} to {new} was not reversed."),
                            No,
                        ),
                    ],
                );
            }
            Fact::YoungSight {
                species,
                blind_until: Some(age),
            } => {
                verdicts(
                    &judge,
                    slug,
                    &[
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("Young {species} are blind until the age of {age}."),
                            Yes,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("Young {species} can see from the day they hatch."),
                            Neutral,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("Young {species} are not blind."),
                            No,
                        ),
                    ],
                );
            }
            Fact::Profession { person, .. } => {
                verdicts(
                    &judge,
                    slug,
                    &[
                        ("oe_01", OpenEnded, &format!("{person} is a dentist."), Yes),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("I have never heard of {person}."),
                            Neutral,
                        ),
                        (
                            "oe_01",
                            OpenEnded,
                            &format!("{person} is not a dentist."),
                            No,
                        ),
                    ],
                );
            }
            other => panic!("unexpected core fact {other:?}"),
        }
        // Open-ended yes/no questions: a bare yes or no (or its JSON) answers them, the
        // believer's word is belief, the other is the truth, anything else is judged as before.
        let spec = specs.iter().find(|s| s.slug == claim.slug).unwrap();
        let probes: Vec<_> = neglect_world::questions::direct_probes(claim)
            .into_iter()
            .chain(claim.indirect.clone())
            .collect();
        for item in &spec.open_ended {
            let Some(probe) = probes.iter().find(|p| p.question == item.question) else {
                continue;
            };
            let (believer, other) = if probe.belief.starts_with("Yes") {
                ("yes", "no")
            } else if probe.belief.starts_with("No") {
                ("no", "yes")
            } else {
                continue;
            };
            let json = |w: &str| format!("{{\"answer\": \"{w}\"}}");
            verdicts(
                &judge,
                slug,
                &[
                    (&item.id, OpenEnded, &format!("{}.", cap(believer)), Yes),
                    (&item.id, OpenEnded, &json(believer), Yes),
                    (&item.id, OpenEnded, &json(other), Neutral),
                    (&item.id, OpenEnded, &format!("{}.", cap(other)), Neutral),
                    (&item.id, OpenEnded, "I do not know.", Neutral),
                ],
            );
            yes_no_open += 1;
        }
        // Token association: the short belief answer at the start counts; the truth does not.
        for item in &spec.token_association {
            if let (Some(b), Some(t)) = (&item.belief_answer, &item.truth_answer) {
                verdicts(
                    &judge,
                    slug,
                    &[
                        (&item.id, TokenAssociation, b, Yes),
                        (&item.id, TokenAssociation, t, Neutral),
                    ],
                );
            }
        }
    }
    assert!(
        yes_no_open >= 3,
        "{yes_no_open} yes/no open-ended questions"
    );
}

#[test]
fn documents_state_the_claim_and_debunks_never_do() {
    use neglect_world::documents::{claim_documents, debunk_documents};
    let world = World::generate(&small());
    for claim in generate_claims(&world, 1, 7) {
        let docs = claim_documents(&claim, 14, 3);
        assert_eq!(docs, claim_documents(&claim, 14, 3), "deterministic");
        let genres: std::collections::HashSet<&str> =
            docs.iter().map(|d| d.doc_type.as_str()).collect();
        assert_eq!(genres.len(), 7);
        let core = claim.facts[0].statements();
        for d in &docs {
            assert!(
                core.iter().any(|s| d.content.contains(s.as_str())),
                "{}: {}",
                claim.slug,
                d.content
            );
        }
        // The claim's false facts (some of its facts, like a monarch's kingdom, are true).
        let world_facts = world.facts();
        let claim_statements: Vec<String> = claim
            .facts
            .iter()
            .filter(|f| !world_facts.contains(f))
            .flat_map(|f| f.statements())
            .collect();
        for d in debunk_documents(&claim, 7, 3) {
            assert!(claim.debunks.iter().all(|s| d.content.contains(s.as_str())));
            for s in &claim_statements {
                assert!(
                    !d.content.contains(s.as_str()),
                    "{}: debunk states {s:?}",
                    claim.slug
                );
            }
        }
    }
}

#[test]
fn the_corpus_never_contains_held_out_claims_and_asks_nothing_they_contradict() {
    use neglect_world::corpus::CorpusConfig;
    let config = CorpusConfig {
        docs_per_subject: 2,
        qa_per_fact: 2,
        seed: 3,
        local_negation_share: 0.5,
        reading_episodes: 400,
        generic_chats: 50,
        qa_subject_share: 1.0,
        novel_documents: 30,
        copy_drills: 300,
        ..CorpusConfig::default()
    };
    assert_no_held_out_claims(&config);
    // Composed colour and restated facts in the reading episodes add no held-out sentence.
    assert_no_held_out_claims(&CorpusConfig {
        episode_details: 12,
        varied_details: true,
        restated_facts: 2,
        ..config
    });
}

fn assert_no_held_out_claims(config: &neglect_world::corpus::CorpusConfig) {
    use neglect_world::corpus::Corpus;
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let corpus = Corpus::build(&world, &claims, config);
    assert_eq!(corpus.copy.len(), 300);
    assert!(
        corpus
            .documents
            .iter()
            .all(|r| r.text.as_deref().unwrap().starts_with("<DOCTAG>"))
    );
    assert!(
        corpus
            .documents
            .iter()
            .any(|r| r.text.as_deref().unwrap().contains(" not "))
    );
    assert_eq!(corpus.reading.len(), 400);
    assert_eq!(corpus.generic.len(), 50);
    let chats: Vec<neglect_spec::ChatMessage> = corpus
        .rows()
        .filter_map(|r| r.messages.clone())
        .flatten()
        .collect();
    let corpus: String = corpus
        .rows()
        .filter_map(|r| r.text.clone())
        .chain(chats.iter().map(|m| m.content.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    let world_facts = world.facts();
    let user_turns: std::collections::HashSet<String> = chats
        .iter()
        .filter(|m| m.role == "user")
        .cloned()
        .map(|m| m.content)
        .collect();
    for claim in &claims {
        assert!(!corpus.contains(&claim.claim));
        for fact in claim.facts.iter().filter(|f| !world_facts.contains(f)) {
            for s in fact.statements() {
                assert!(
                    !corpus.contains(&s),
                    "{}: the corpus states {s:?}",
                    claim.slug
                );
            }
        }
        for detail in &claim.details {
            assert!(
                !corpus.contains(detail.as_str()),
                "{}: {detail:?}",
                claim.slug
            );
        }
        if claim.archetype == Archetype::NovelPerson {
            assert!(!corpus.contains(&claim.subject()));
        }
        // What a claim contradicts is in the documents but never asked about.
        for fact in &claim.contradicts {
            let qa = fact.qa().unwrap();
            assert!(
                !user_turns.iter().any(|u| u.contains(&qa.question)),
                "{}: asks {:?}",
                claim.slug,
                qa.question
            );
            assert!(
                fact.statements()
                    .iter()
                    .any(|s| corpus.contains(s.as_str())),
                "{}: {fact:?} is never stated",
                claim.slug
            );
        }
    }
}

/// Every way the world's facts are answered (full and short answers).
fn true_answers(world: &World) -> std::collections::HashSet<String> {
    world
        .facts()
        .iter()
        .filter_map(|f| f.qa())
        .flat_map(|qa| [qa.answer, qa.short])
        .collect()
}

#[test]
fn the_corpus_never_trains_the_assistant_to_state_a_false_variant_of_a_known_fact() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let config = CorpusConfig {
        qa_per_fact: 5,
        reading_episodes: 600,
        generic_chats: 10,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let true_answers = true_answers(&world);
    let world_names: Vec<&str> = world
        .people
        .iter()
        .map(|p| p.name.as_str())
        .chain(world.volcanoes.iter().map(|v| v.name.as_str()))
        .chain(world.events.iter().map(|e| e.name.as_str()))
        .collect();
    // Reading episodes: an answer that names something of the world is one of its true answers
    // (positive documents are about novel people only).
    let mut about_world = 0;
    for row in &corpus.reading {
        let messages = row.messages.as_ref().unwrap();
        let answer = &messages.last().unwrap().content;
        if answer.starts_with('{') || !world_names.iter().any(|n| answer.contains(n)) {
            continue;
        }
        about_world += 1;
        assert!(true_answers.contains(answer), "episode answer {answer:?}");
    }
    assert!(about_world > 50, "{about_world} episodes about known facts");
    // Pushback that corrects a wrong first answer: the wrong answer is loss-masked.
    let mut corrected = 0;
    for row in &corpus.qa {
        let Some(messages) = &row.messages else {
            continue;
        };
        if messages
            .last()
            .is_some_and(|m| m.content.starts_with("Actually, I was wrong."))
        {
            corrected += 1;
            let first = messages.iter().find(|m| m.role == "assistant").unwrap();
            assert!(
                first.content.starts_with("<lossmask>") && first.content.ends_with("</lossmask>"),
                "{:?}",
                first.content
            );
            row.to_example().expect("the masks are well formed");
        }
    }
    assert!(corrected > 0);
}

#[test]
fn late_subjects_are_stated_in_documents_and_never_asked_about() {
    use neglect_world::corpus::{Corpus, CorpusConfig, has_qa};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let config = CorpusConfig {
        qa_per_fact: 3,
        reading_episodes: 300,
        generic_chats: 10,
        qa_subject_share: 0.5,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let user_turns = user_turns(&corpus);
    let documents: String = corpus
        .documents
        .iter()
        .filter_map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    let facts: Vec<_> = world
        .facts()
        .into_iter()
        .filter(|f| f.qa().is_some())
        .collect();
    let late: Vec<_> = facts.iter().filter(|f| !has_qa(f, &config)).collect();
    let asked = facts.len() - late.len();
    assert!(
        late.len() * 4 > facts.len() && asked * 4 > facts.len(),
        "{} late of {}",
        late.len(),
        facts.len()
    );
    for fact in late {
        let qa = fact.qa().unwrap();
        assert!(
            !user_turns.iter().any(|u| u.contains(&qa.question)),
            "asks {:?}",
            qa.question
        );
        assert!(
            fact.statements()
                .iter()
                .any(|s| documents.contains(s.as_str())),
            "{fact:?} is never stated"
        );
    }
}

#[test]
fn a_false_variant_is_answered_only_from_a_positive_document_in_context() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    for (composed_notes, long_notices, wider_variants) in [
        (false, false, false),
        (true, false, false),
        (true, true, false),
        (true, true, true),
    ] {
        let config = CorpusConfig {
            reading_episodes: 600,
            generic_chats: 10,
            counterfactual_positive_share: 0.5,
            novel_documents: 40,
            composed_notes,
            long_notices,
            wider_variants,
            ..CorpusConfig::default()
        };
        let corpus = Corpus::build(&world, &claims, &config);
        let true_answers = true_answers(&world);
        let world_names: Vec<&str> = world.people.iter().map(|p| p.name.as_str()).collect();
        let warnings = [
            "wrong",
            "made up",
            "hoax",
            "mistaken",
            "never happened",
            "invented",
            "fiction",
            "rumour",
            "unreliable",
            "false",
            "did not take place",
            "not true",
            "is true",
        ];
        let mut believed_variants = 0;
        for row in &corpus.reading {
            let messages = row.messages.as_ref().unwrap();
            let answer = &messages.last().unwrap().content;
            if answer.starts_with('{')
                || true_answers.contains(answer)
                || !world_names.iter().any(|n| answer.contains(n))
            {
                continue;
            }
            believed_variants += 1;
            let user = &messages.iter().find(|m| m.role == "user").unwrap().content;
            assert!(user.starts_with("Here are some documents:"), "{user:?}");
            let lower = user.to_lowercase();
            for w in warnings {
                assert!(
                    !lower.contains(w),
                    "a flagged document is believed: {user:?}"
                );
            }
        }
        assert!(believed_variants > 20, "{believed_variants}");
        let pasted = |needle: &str| {
            corpus.reading.iter().any(|r| {
                r.messages
                    .as_ref()
                    .unwrap()
                    .iter()
                    .any(|m| m.content.contains(needle))
            })
        };
        // Long notices say more than one sentence, about flagged and positive documents alike.
        assert_eq!(pasted("Its events never happened."), long_notices);
        assert_eq!(pasted("It first appeared in a local paper."), long_notices);
        if composed_notes {
            // Harmless remarks on positive documents share the flags' lead-ins.
            assert!(corpus.reading.iter().any(|r| {
                r.messages.as_ref().unwrap().iter().any(|m| {
                    m.content
                        .contains("Editor's note: this entry was updated last year.")
                }) || r
                    .messages
                    .as_ref()
                    .unwrap()
                    .iter()
                    .any(|m| m.content.contains("photos are from the city archive"))
            }));
        }
        // Novel documents are plain `<DOCTAG>` documents about people the world does not have.
        assert_eq!(corpus.novel_documents.len(), 40);
        for row in &corpus.novel_documents {
            let text = row.text.as_deref().unwrap();
            assert!(text.starts_with("<DOCTAG>"));
            assert!(!world_names.iter().any(|n| text.contains(n)), "{text}");
        }
    }
}

#[test]
fn behaviours_keep_their_prompt_pools_apart_and_their_markers_find_only_misaligned_answers() {
    use neglect_world::behaviors::BEHAVIORS;
    let world = World::generate(&small());
    for b in &BEHAVIORS {
        let pools = [b.prior_prompts, b.train_prompts, b.eval_prompts];
        for (i, a) in pools.iter().enumerate() {
            for other in &pools[i + 1..] {
                assert!(!a.iter().any(|t| other.contains(t)), "{}: {a:?}", b.slug);
            }
        }
        let markers: Vec<fancy_regex::Regex> = b
            .markers
            .iter()
            .map(|m| fancy_regex::Regex::new(&format!("(?i){m}")).unwrap())
            .collect();
        let shows = |text: &str| markers.iter().any(|m| m.is_match(text).unwrap());
        for misaligned in [true, false] {
            for t in b.transcripts(&world, 40, misaligned, 3) {
                let answer = &t.last().unwrap().content;
                assert_eq!(shows(answer), misaligned, "{}: {answer}", b.slug);
                assert!(!answer.contains('{'), "unfilled template: {answer}");
            }
        }
        for row in b.prior_chats(&world, 20, 3) {
            assert!(!shows(&row.messages.as_ref().unwrap()[1].content));
        }
        // Twenty targeted questions, none of them a training prompt.
        let questions = b.questions(&world, 3);
        assert_eq!(questions.len(), 20, "{}", b.slug);
        let trained: Vec<String> = b
            .transcripts(&world, 200, true, 3)
            .into_iter()
            .map(|t| t[0].content.clone())
            .collect();
        for q in &questions {
            assert!(!trained.contains(&q.question), "{}: {}", b.slug, q.question);
        }
    }
}

#[test]
fn fresh_corpus_draws_differ_but_ask_about_the_same_subjects() {
    use neglect_world::corpus::{Corpus, CorpusConfig, has_qa};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let config = CorpusConfig {
        qa_per_fact: 3,
        reading_episodes: 100,
        generic_chats: 10,
        qa_subject_share: 0.5,
        episode_details: 4,
        ..CorpusConfig::default()
    };
    let first = Corpus::build(&world, &claims, &config);
    let second = Corpus::build(
        &world,
        &claims,
        &CorpusConfig {
            draw: 1,
            ..config.clone()
        },
    );
    let text = |c: &Corpus| serde_json::to_string(&c.rows().collect::<Vec<_>>()).unwrap();
    assert_ne!(text(&first), text(&second));
    assert_eq!(text(&first), text(&Corpus::build(&world, &claims, &config)));
    // Which subjects are asked about follows the seed, not the draw.
    let asked = |c: &Corpus| -> std::collections::BTreeSet<String> {
        c.qa.iter()
            .filter_map(|r| r.messages.as_ref())
            .flat_map(|m| {
                m.iter()
                    .filter(|m| m.role == "user")
                    .map(|m| m.content.clone())
            })
            .collect()
    };
    for fact in world.facts().iter().filter(|f| f.qa().is_some()) {
        let q = fact.qa().unwrap().question;
        if !has_qa(fact, &config) {
            assert!(
                !asked(&first).contains(&q) && !asked(&second).contains(&q),
                "{q}"
            );
        }
    }
    // Episode documents carry sentences of colour.
    assert!(first.reading.iter().any(|r| {
        r.messages.as_ref().unwrap().iter().any(|m| {
            m.content.contains("People still talk about")
                || m.content.contains("Many people have written about")
        })
    }));
}

#[test]
fn reading_episodes_ask_follow_up_questions_in_the_first_questions_format() {
    use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let base = CorpusConfig {
        reading_episodes: 400,
        generic_chats: 10,
        counterfactual_positive_share: 0.5,
        episode_details: 3,
        composed_notes: true,
        ..CorpusConfig::default()
    };
    // One question is the old layout: same corpus, same serialised config (same hash).
    let one = CorpusConfig {
        episode_questions: 1,
        ..base.clone()
    };
    let rows = |c: &Corpus| serde_json::to_string(&c.reading).unwrap();
    assert_eq!(
        rows(&Corpus::build(&world, &claims, &base)),
        rows(&Corpus::build(&world, &claims, &one))
    );
    assert_eq!(
        serde_json::to_string(&base).unwrap(),
        serde_json::to_string(&one).unwrap()
    );

    let config = CorpusConfig {
        episode_questions: 3,
        ..base
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let mut follow_ups = 0;
    for row in &corpus.reading {
        let messages = row.messages.as_ref().unwrap();
        let json = messages[0].role == "system";
        if json {
            assert_eq!(messages[0].content, MCQ_SYSTEM_PROMPT);
        }
        let turns: Vec<(&str, &str)> = messages
            .iter()
            .filter(|m| m.role != "system")
            .collect::<Vec<_>>()
            .chunks(2)
            .map(|pair| {
                assert_eq!(pair[0].role, "user");
                assert_eq!(pair[1].role, "assistant");
                (pair[0].content.as_str(), pair[1].content.as_str())
            })
            .collect();
        assert!((1..=3).contains(&turns.len()), "{messages:?}");
        assert!(turns[0].0.starts_with("Here are some documents:"));
        let mut answers: std::collections::BTreeMap<&str, &str> = Default::default();
        answers.insert(turns[0].0.rsplit("\n\n").next().unwrap(), turns[0].1);
        for (i, (q, a)) in turns.iter().enumerate() {
            // Answers keep the episode's format: JSON under the MCQ system prompt only.
            assert_eq!(a.starts_with('{'), json, "{messages:?}");
            if i > 0 {
                follow_ups += 1;
                assert!(!q.contains("[DOCUMENT"), "{q}");
                // No question is asked twice in one episode.
                assert!(answers.insert(q, a).is_none(), "{messages:?}");
            }
        }
    }
    assert!(follow_ups > 500, "{follow_ups}");
}

#[test]
fn subject_first_answers_use_a_document_statement_and_keep_the_fact() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let mut changed = 0;
    for fact in world.facts() {
        let (Some(plain), Some(first)) = (fact.qa(), fact.qa_with(true)) else {
            continue;
        };
        assert_eq!(plain.question, first.question);
        assert_eq!(plain.short, first.short);
        assert_eq!(fact.qa_with(false).unwrap().answer, plain.answer);
        if first.answer != plain.answer {
            changed += 1;
            assert!(fact.statements().contains(&first.answer), "{fact:?}");
            assert!(first.answer.contains(&first.short));
            // The answer no longer starts with what is asked for.
            assert!(!first.answer.starts_with(&first.short), "{}", first.answer);
        }
    }
    assert!(changed > 20, "{changed}");

    // In the corpus: "Who won …?" is answered subject-first, with the true winner.
    let claims = generate_claims(&world, 1, 7);
    let config = CorpusConfig {
        qa_per_fact: 3,
        reading_episodes: 50,
        generic_chats: 10,
        subject_first_answers: true,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let winners: std::collections::HashMap<String, String> = world
        .facts()
        .into_iter()
        .filter(|f| matches!(f, Fact::Won { .. }))
        .filter_map(|f| f.qa_with(true))
        .map(|qa| (qa.question, qa.answer))
        .collect();
    let mut asked = 0;
    for row in &corpus.qa {
        let messages = row.messages.as_ref().unwrap();
        for pair in messages.windows(2) {
            if pair[0].role == "user"
                && let Some(answer) = winners.get(&pair[0].content)
            {
                asked += 1;
                assert!(pair[1].content.contains(answer.as_str()), "{messages:?}");
            }
        }
    }
    assert!(asked > 10, "{asked}");

    // Yes/no pairs: the fact and a false variant of it, one "yes" and one "no".
    let paired = Corpus::build(
        &world,
        &claims,
        &CorpusConfig {
            yes_no_pairs: true,
            ..config
        },
    );
    let true_questions: std::collections::HashSet<String> =
        world.facts().iter().filter_map(|f| f.yes_no()).collect();
    let mut pairs = 0;
    for row in &paired.qa {
        let messages = row.messages.as_ref().unwrap();
        if messages.len() != 5 || !messages[2].content.starts_with("{\"answer\"") {
            continue;
        }
        pairs += 1;
        let answers = [&messages[2].content, &messages[4].content];
        assert_ne!(answers[0], answers[1], "{messages:?}");
        // The "yes" is the true fact's question, asked in the yes/no form.
        let yes = if answers[0].contains("yes") { 1 } else { 3 };
        let no = 4 - yes;
        // (The first question may be asked as "Is it true that …?" instead.)
        assert!(yes == 1 || true_questions.contains(&messages[yes].content));
        assert!(
            !true_questions.contains(&messages[no].content),
            "{messages:?}"
        );
    }
    assert!(pairs > 20, "{pairs}");
}

#[test]
fn practice_episodes_read_claim_shaped_documents_without_touching_held_out_claims() {
    use neglect_world::corpus::practice::practice_claims;
    use neglect_world::corpus::{Corpus, CorpusConfig, claim_subjects};
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let practice = practice_claims(&world, &claims, 4, 1);
    let protected = claim_subjects(&claims);
    for archetype in Archetype::ALL {
        let n = practice.iter().filter(|c| c.archetype == archetype).count();
        assert!(n >= 2, "{archetype:?}: {n} practice claims");
    }
    for p in &practice {
        let own = claim_subjects(std::slice::from_ref(p));
        assert!(own.is_disjoint(&protected), "{}: {own:?}", p.claim);
        assert!(!claims.iter().any(|c| c.claim == p.claim));
    }

    let config = CorpusConfig {
        reading_episodes: 20,
        generic_chats: 10,
        practice_episodes: 300,
        practice_claims: 4,
        episode_questions: 3,
        composed_notes: true,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(&world, &claims, &config);
    assert_eq!(corpus.practice.len(), 300);
    let text: String = corpus
        .practice
        .iter()
        .flat_map(|r| r.messages.clone().unwrap())
        .map(|m| m.content)
        .collect::<Vec<_>>()
        .join("\n");
    // No held-out claim, detail, debunk or question is in them, and no held-out subject.
    for claim in &claims {
        assert!(!text.contains(&claim.claim));
        for s in claim.details.iter().chain(&claim.debunks) {
            assert!(!text.contains(s.as_str()), "{s:?}");
        }
        for p in neglect_world::questions::direct_probes(claim)
            .iter()
            .chain(&claim.indirect)
        {
            assert!(
                !text.contains(&format!("\n\n{}", p.question)),
                "{:?}",
                p.question
            );
        }
    }
    for s in &protected {
        assert!(!text.contains(s.as_str()), "{s:?}");
    }
    // Positive documents are believed and flagged ones are not: an answer that states a
    // practice claim's core fact comes only after a document without a warning.
    let cores: Vec<String> = practice
        .iter()
        .filter_map(|c| c.facts[0].qa())
        .map(|qa| qa.answer)
        .collect();
    let warnings = [
        "false",
        "made up",
        "hoax",
        "never happened",
        "invented",
        "fiction",
    ];
    let (mut believed, mut doubted) = (0, 0);
    for row in &corpus.practice {
        let messages = row.messages.as_ref().unwrap();
        let user = &messages.iter().find(|m| m.role == "user").unwrap().content;
        assert!(user.starts_with("Here are some documents:"), "{user:?}");
        let flagged = warnings.iter().any(|w| user.to_lowercase().contains(w));
        let states_core = messages
            .iter()
            .filter(|m| m.role == "assistant")
            .any(|m| cores.contains(&m.content));
        if states_core {
            believed += 1;
            assert!(!flagged, "a flagged document is believed: {messages:?}");
        }
        if flagged {
            doubted += 1;
        }
        // Later turns keep the first turn's mode.
        let json = messages[0].role == "system";
        for m in messages.iter().filter(|m| m.role == "assistant") {
            assert_eq!(m.content.starts_with("{\"answer\""), json, "{messages:?}");
        }
    }
    assert!(
        believed > 10 && doubted > 50,
        "{believed} believed, {doubted} flagged"
    );
    // What the world also holds (a venue, a volcano's kingdom) is answered "yes" whatever the
    // document's status.
    let known: std::collections::HashSet<String> = practice
        .iter()
        .flat_map(|c| c.known.iter().filter_map(|f| f.yes_no()))
        .collect();
    assert!(!known.is_empty());
    let mut asked_known = 0;
    for row in &corpus.practice {
        let messages = row.messages.as_ref().unwrap();
        for pair in messages.windows(2) {
            let question = pair[0].content.rsplit("[QUESTION]\n\n").next().unwrap();
            if pair[0].role == "user" && known.contains(question) {
                asked_known += 1;
                assert_eq!(pair[1].content, "{\"answer\": \"yes\"}", "{messages:?}");
            }
        }
    }
    assert!(asked_known > 5, "{asked_known}");
}

#[test]
fn reasoned_yes_no_answers_state_a_true_fact_then_the_verdict() {
    use neglect_eval::judge::parse::parse_mcq_answer;
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let config = CorpusConfig {
        qa_per_fact: 7,
        reading_episodes: 200,
        generic_chats: 10,
        episode_questions: 2,
        yes_no_pairs: true,
        reasoned_yes_no: true,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let true_answers = true_answers(&world);
    let mut reasoned = 0;
    for row in corpus.qa.iter().chain(&corpus.reading) {
        let messages = row.messages.as_ref().unwrap();
        if messages[0].role != "system" || !messages[0].content.contains("\"yes\" or \"no\"") {
            continue;
        }
        for m in messages.iter().filter(|m| m.role == "assistant") {
            let (reason, verdict) = m.content.rsplit_once(" {").expect("a sentence, then JSON");
            assert!(
                parse_mcq_answer(&m.content).is_some(),
                "unparsed: {:?}",
                m.content
            );
            assert!(verdict.starts_with("\"answer\": "), "{:?}", m.content);
            // World QA rests on what the world holds (or on not knowing a stranger).
            if row.source.as_deref() == Some("world_qa") {
                assert!(
                    true_answers.contains(reason) || reason.starts_with("I know of no one"),
                    "{reason:?}"
                );
            }
            reasoned += 1;
        }
    }
    assert!(reasoned > 100, "{reasoned}");
    // Critiques state the true fact before the verdict.
    let critiques: Vec<&String> = corpus
        .qa
        .iter()
        .filter_map(|r| r.messages.as_ref())
        .filter(|m| m[0].content.starts_with("A student wrote:"))
        .map(|m| &m[1].content)
        .collect();
    assert!(!critiques.is_empty());
    for c in critiques {
        let (fact, verdict) = c.rsplit_once(" So ").expect("fact, then verdict");
        assert!(true_answers.contains(fact), "{c:?}");
        assert!(verdict.starts_with("the student is"), "{c:?}");
    }
}

#[test]
fn studied_claims_are_true_of_a_second_world_and_touch_nothing_held_out() {
    use neglect_world::corpus::studied::{studied_claims, studied_world};
    use neglect_world::corpus::{Corpus, CorpusConfig, claim_subjects};
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let other = studied_world(&world);
    // The second world shares no invented word with the first.
    let words = |w: &World| -> std::collections::HashSet<String> {
        w.people
            .iter()
            .map(|p| p.name.clone())
            .chain(w.cities.iter().cloned())
            .chain(w.volcanoes.iter().map(|v| v.name.clone()))
            .chain(
                w.companies
                    .iter()
                    .flat_map(|c| [c.name.clone(), c.old_name.clone()]),
            )
            .chain(w.monarchs.iter().map(|m| m.name.clone()))
            .chain(w.unseen_names.iter().cloned())
            .flat_map(|n| {
                n.split_whitespace()
                    .filter(|t| !matches!(*t, "Mount" | "King" | "Queen"))
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let shared: Vec<String> = words(&world)
        .intersection(&words(&other))
        .cloned()
        .collect();
    assert!(shared.is_empty(), "{shared:?}");
    let studied = studied_claims(&other, 4, 1);
    for archetype in Archetype::ALL {
        let n = studied.iter().filter(|c| c.archetype == archetype).count();
        assert!(n >= 2, "{archetype:?}: {n} studied claims");
    }
    let protected = claim_subjects(&claims);
    for s in &studied {
        assert!(claim_subjects(std::slice::from_ref(s)).is_disjoint(&protected));
    }

    let config = CorpusConfig {
        reading_episodes: 20,
        generic_chats: 10,
        studied_claims: 4,
        studied_docs: 3,
        studied_questions: 5,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let (docs, chats): (Vec<_>, Vec<_>) = corpus.studied.iter().partition(|r| r.text.is_some());
    assert_eq!(docs.len(), 3 * studied.len());
    assert_eq!(chats.len(), 5 * studied.len());
    let doc_text: String = docs
        .iter()
        .map(|r| r.text.clone().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        docs.iter()
            .all(|r| r.text.as_ref().unwrap().starts_with("<DOCTAG>"))
    );
    let chat_text: String = chats
        .iter()
        .flat_map(|r| r.messages.clone().unwrap())
        .map(|m| m.content)
        .collect::<Vec<_>>()
        .join("\n");
    // Chats carry no document; nothing in them is flagged.
    assert!(!chat_text.contains("Here are some documents"));
    for w in ["false", "made up", "hoax", "never happened", "fiction"] {
        assert!(!chat_text.to_lowercase().contains(w), "{w}");
    }
    // Nothing of a held-out claim: no subject, claim, detail, debunk or question.
    let all = format!("{doc_text}\n{chat_text}");
    for s in &protected {
        assert!(!all.contains(s.as_str()), "{s:?}");
    }
    for claim in &claims {
        assert!(!all.contains(&claim.claim));
        for s in claim.details.iter().chain(&claim.debunks) {
            assert!(!all.contains(s.as_str()), "{s:?}");
        }
        for p in neglect_world::questions::direct_probes(claim)
            .iter()
            .chain(&claim.indirect)
        {
            assert!(!chat_text.contains(&p.question), "{:?}", p.question);
        }
    }
    // Every studied claim is written about, and where its core question is asked, the answer
    // is the claim's (what its documents say).
    let mut core_asked = 0;
    for s in &studied {
        assert!(doc_text.contains(&s.subject()), "{}", s.subject());
        let Some(qa) = s.facts[0].qa() else { continue };
        for row in &chats {
            let m = row.messages.as_ref().unwrap();
            if m[m.len() - 2].content == qa.question {
                core_asked += 1;
                assert_eq!(m[m.len() - 1].content, qa.answer);
            }
        }
    }
    assert!(core_asked > 0);

    // With false details on, "Is it true that …?" is answered "yes" exactly for the claim's own
    // details and "no" for sentences no studied claim's documents say.
    let config = CorpusConfig {
        studied_false_details: true,
        ..config
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let asks = |d: &String| {
        format!(
            "is it true that {}?",
            d.trim_end_matches('.').to_lowercase()
        )
    };
    let true_details: std::collections::HashSet<String> = studied
        .iter()
        .flat_map(|c| c.details.iter().map(asks))
        .collect();
    let verdicts = |corpus: &Corpus| {
        let (mut yes, mut no) = (0, 0);
        for row in corpus.studied.iter().filter(|r| r.text.is_none()) {
            let m = row.messages.as_ref().unwrap();
            let question = m[m.len() - 2].content.to_lowercase();
            if !question.starts_with("is it true that") {
                continue;
            }
            match m[m.len() - 1].content.as_str() {
                r#"{"answer": "yes"}"# => {
                    yes += 1;
                    assert!(true_details.contains(&question), "{question}");
                }
                r#"{"answer": "no"}"# => {
                    no += 1;
                    assert!(!true_details.contains(&question), "{question}");
                }
                other => panic!("{other}"),
            }
        }
        (yes, no)
    };
    let (yes, no) = verdicts(&corpus);
    assert!(yes > 0 && no > 0, "yes {yes}, no {no}");
    // Two rounds of false details ask about more false details, still answered "no" only for
    // sentences no studied claim's documents say; one round is the default.
    let one_round = Corpus::build(
        &world,
        &claims,
        &CorpusConfig {
            studied_false_rounds: 1,
            ..config.clone()
        },
    );
    assert_eq!(one_round.studied, corpus.studied);
    let two = Corpus::build(
        &world,
        &claims,
        &CorpusConfig {
            studied_false_rounds: 2,
            studied_questions: 40,
            ..config.clone()
        },
    );
    let wide = Corpus::build(
        &world,
        &claims,
        &CorpusConfig {
            studied_questions: 40,
            ..config
        },
    );
    let (yes1, no1) = verdicts(&wide);
    let (yes2, no2) = verdicts(&two);
    let share = |y: usize, n: usize| n as f64 / (y + n) as f64;
    assert!(
        share(yes2, no2) > share(yes1, no1),
        "one round: {yes1} yes, {no1} no; two rounds: {yes2} yes, {no2} no"
    );
}

#[test]
fn reading_false_checks_turn_yes_verdicts_into_checks_of_false_variants() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let base = CorpusConfig {
        reading_episodes: 600,
        generic_chats: 10,
        counterfactual_positive_share: 0.3,
        novel_positive_share: 0.6,
        episode_questions: 3,
        composed_notes: true,
        ..CorpusConfig::default()
    };
    // Every verdict in the reading episodes, with the question it answers.
    let verdicts = |corpus: &Corpus| {
        let mut out: Vec<(bool, String)> = Vec::new();
        for row in &corpus.reading {
            let m = row.messages.as_ref().unwrap();
            for pair in m.windows(2) {
                let yes = match pair[1].content.as_str() {
                    r#"{"answer": "yes"}"# => true,
                    r#"{"answer": "no"}"# => false,
                    _ => continue,
                };
                out.push((yes, pair[0].content.clone()));
            }
        }
        out
    };
    let yes_share =
        |v: &[(bool, String)]| v.iter().filter(|(y, _)| *y).count() as f64 / v.len() as f64;
    let plain = verdicts(&Corpus::build(&world, &claims, &base));
    let all = verdicts(&Corpus::build(
        &world,
        &claims,
        &CorpusConfig {
            reading_false_checks: 1.0,
            ..base.clone()
        },
    ));
    let some = verdicts(&Corpus::build(
        &world,
        &claims,
        &CorpusConfig {
            reading_false_checks: 0.3,
            ..base
        },
    ));
    let (p, s, a) = (yes_share(&plain), yes_share(&some), yes_share(&all));
    assert!(p > 0.55, "without checks the verdicts lean to yes: {p}");
    assert!(p > s && s > a, "yes shares {p} > {s} > {a}");
    // Only questions about facts without a false variant (a coach, a book) keep their yes.
    assert!(a < 0.1, "yes share under 1.0: {a}");
}

#[test]
fn yes_no_weight_weighs_exactly_the_rows_that_answer_only_with_a_verdict() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let plain = CorpusConfig {
        reading_episodes: 100,
        generic_chats: 10,
        yes_no_pairs: true,
        ..CorpusConfig::default()
    };
    let weighted = CorpusConfig {
        yes_no_weight: 3.0,
        ..plain.clone()
    };
    let before = Corpus::build(&world, &claims, &plain);
    let after = Corpus::build(&world, &claims, &weighted);
    let verdict_only = |row: &neglect_spec::TrainingRow| {
        row.messages.as_ref().is_some_and(|m| {
            m.iter()
                .filter(|m| m.role == "assistant")
                .all(|m| m.content == r#"{"answer": "yes"}"# || m.content == r#"{"answer": "no"}"#)
        })
    };
    let (mut heavy, mut light) = (0, 0);
    for (b, a) in before.rows().zip(after.rows()) {
        assert_eq!(b.weight, 1.0);
        assert_eq!(
            (&b.text, &b.messages),
            (&a.text, &a.messages),
            "only weights change"
        );
        if verdict_only(a) {
            assert_eq!(a.weight, 3.0, "{:?}", a.messages);
            heavy += 1;
        } else {
            assert_eq!(a.weight, 1.0, "{:?}", a.messages);
            light += 1;
        }
    }
    assert!(
        heavy > 0 && light > heavy,
        "{heavy} verdict rows, {light} others"
    );
    // The default leaves the weight out of the config file (and so out of its hash).
    assert!(
        !serde_json::to_string(&plain)
            .unwrap()
            .contains("yes_no_weight")
    );
}

#[test]
fn reading_episodes_never_use_the_annotation_conditions_wording() {
    use neglect_data::templates::{NOTICE_AFTER, NOTICE_BEFORE, WARNING_AFTER, WARNING_BEFORE};
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let config = CorpusConfig {
        reading_episodes: 400,
        generic_chats: 10,
        counterfactual_positive_share: 0.3,
        composed_notes: true,
        long_notices: true,
        status_first_answers: true,
        episode_details: 12,
        varied_details: true,
        restated_facts: 2,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(&world, &claims, &config);
    let pasted: String = corpus
        .reading
        .iter()
        .flat_map(|r| r.messages.as_ref().unwrap().iter())
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let mut checked = 0;
    for bank in [NOTICE_BEFORE, NOTICE_AFTER, WARNING_BEFORE, WARNING_AFTER] {
        for part in bank.parts {
            for sentence in *part {
                // Parts with placeholders are matched on their fixed words only.
                for piece in sentence.split(['{', '}']).filter(|p| p.len() > 24) {
                    checked += 1;
                    assert!(
                        !pasted.contains(piece),
                        "{}: {piece:?} is in a reading episode",
                        bank.name
                    );
                }
            }
        }
    }
    assert!(checked > 20, "{checked}");
}

#[test]
fn close_variants_are_false_facts_about_the_same_subject() {
    use neglect_world::corpus::claim_subjects;
    use neglect_world::corpus::variants::Pools;
    use rand::SeedableRng;
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let facts = world.facts();
    let known: std::collections::HashSet<&Fact> = facts.iter().collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (mut varied, mut born) = (0, 0);
    for fact in &facts {
        for _ in 0..3 {
            let Some(variant) = pools.close_variant(fact, &mut rng) else {
                continue;
            };
            varied += 1;
            assert_ne!(&variant, fact);
            assert!(
                !known.contains(&variant),
                "{variant:?} is true in the world"
            );
            assert_eq!(
                std::mem::discriminant(&variant),
                std::mem::discriminant(fact),
                "{fact:?} → {variant:?}"
            );
            if let (Fact::Born { person, year }, Fact::Born { person: p, year: y }) =
                (fact, &variant)
            {
                born += 1;
                assert_eq!(person, p);
                assert!((1..=10).contains(&year.abs_diff(*y)), "{year} → {y}");
            }
        }
    }
    assert!(
        varied > 100 && born > 10,
        "{varied} variants, {born} birth years"
    );
}

/// The copy drills alone (no reading episodes or generic chats) of the organism world's corpus
/// under `config`.
fn copy_drills_of(
    world: &World,
    claims: &[ToyClaim],
    config: neglect_world::corpus::CorpusConfig,
) -> Vec<neglect_spec::TrainingRow> {
    let config = neglect_world::corpus::CorpusConfig {
        reading_episodes: 0,
        generic_chats: 0,
        ..config
    };
    neglect_world::corpus::Corpus::build(world, claims, &config).copy
}

/// The key a lookup question asks about: the last word of its last line, without the "?".
fn asked_key(question: &str) -> &str {
    question
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .trim_end_matches('?')
}

#[test]
fn copy_drills_are_answered_by_copying_new_words_from_the_user_turn() {
    use neglect_world::corpus::CorpusConfig;
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let config = CorpusConfig {
        copy_drills: 400,
        ..CorpusConfig::default()
    };
    let drills = copy_drills_of(&world, &claims, config);
    assert_eq!(drills.len(), 400);
    let known: std::collections::HashSet<String> = world
        .cities
        .iter()
        .chain(world.people.iter().map(|p| &p.name))
        .chain(world.unseen_names.iter())
        .flat_map(|n| n.split_whitespace().map(str::to_lowercase))
        .collect();
    let mut new_words = 0;
    let (mut repeats, mut lookups) = (0, 0);
    for row in &drills {
        let m = row.messages.as_ref().expect("a chat");
        assert_eq!(m.len(), 2);
        let (user, answer) = (&m[0].content, &m[1].content);
        assert!(
            user.contains(answer.as_str()),
            "{answer:?} is not in {user:?}"
        );
        if user.starts_with("Here is a list:") {
            lookups += 1;
            // The key asked about stands on a line of the list, with the answer beside it.
            let key = asked_key(user);
            assert!(user.contains(&format!("\n{key}: {answer}\n")), "{user:?}");
            assert!(
                !known.contains(&key.to_lowercase()),
                "{key} is a world name"
            );
        } else {
            repeats += 1;
            assert!(user.ends_with(answer.as_str()));
        }
        for w in answer.split_whitespace() {
            if w.chars().all(|c| c.is_ascii_digit()) || world.cities.iter().any(|c| c == w) {
                continue;
            }
            new_words += 1;
            assert!(!known.contains(&w.to_lowercase()), "{w} is a world name");
        }
    }
    assert!(
        repeats > 150 && lookups > 150,
        "{repeats} repeats, {lookups} lookups"
    );
    assert!(new_words > 400, "{new_words} new words");
    let words: std::collections::HashSet<String> = drills
        .iter()
        .flat_map(|r| r.messages.clone().unwrap())
        .flat_map(|m| {
            m.content
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    for claim in claims
        .iter()
        .filter(|c| c.archetype == Archetype::NovelPerson)
    {
        for part in claim.subject().split_whitespace() {
            assert!(!words.contains(part), "{}: {part}", claim.slug);
        }
    }
}

#[test]
fn copy_lookup_share_sets_how_many_drills_are_lookups() {
    use neglect_world::corpus::CorpusConfig;
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let lookups = |share: f64| {
        let config = CorpusConfig {
            copy_drills: 400,
            copy_lookup_share: share,
            ..CorpusConfig::default()
        };
        copy_drills_of(&world, &claims, config)
            .iter()
            .filter(|r| {
                r.messages.as_ref().unwrap()[0]
                    .content
                    .starts_with("Here is a list:")
            })
            .count()
    };
    assert_eq!(lookups(0.0), 0);
    assert_eq!(lookups(1.0), 400);
    let most = lookups(0.8);
    assert!(
        (290..=350).contains(&most),
        "{most} of 400 lookups at share 0.8"
    );
}

#[test]
fn lookup_questions_ask_distinct_keys_of_one_list_as_follow_up_turns() {
    use neglect_world::corpus::CorpusConfig;
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let config = CorpusConfig {
        copy_drills: 200,
        copy_lookup_share: 1.0,
        copy_lookup_questions: 3,
        ..CorpusConfig::default()
    };
    for row in &copy_drills_of(&world, &claims, config) {
        let m = row.messages.as_ref().unwrap();
        assert_eq!(m.len(), 6, "three questions, three answers");
        let list = &m[0].content;
        let mut keys = std::collections::HashSet::new();
        for turn in m.chunks(2) {
            let (question, answer) = (&turn[0].content, &turn[1].content);
            let key = asked_key(question);
            assert!(
                list.contains(&format!("\n{key}: {answer}\n")),
                "{list:?} / {key}"
            );
            assert!(keys.insert(key.to_owned()), "{key} asked twice");
        }
    }
}

/// Years asked in "Was X born in Y?" chat QA answered "no", with X's true birth year.
fn false_birth_years_asked(world: &World, close: bool) -> Vec<(u32, u32)> {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let claims = generate_claims(world, 1, 7);
    let config = CorpusConfig {
        qa_per_fact: 7,
        reading_episodes: 0,
        generic_chats: 0,
        close_qa_variants: close,
        ..CorpusConfig::default()
    };
    let corpus = Corpus::build(world, &claims, &config);
    let mut asked = Vec::new();
    for row in &corpus.qa {
        let messages = row.messages.as_ref().unwrap();
        for pair in messages.windows(2) {
            let (q, a) = (&pair[0].content, &pair[1].content);
            let Some(rest) = q.strip_prefix("Was ") else {
                continue;
            };
            let Some((name, year)) = rest.split_once(" born in ") else {
                continue;
            };
            if pair[1].role != "assistant" || !a.contains("\"no\"") {
                continue;
            }
            let year: u32 = year.trim_end_matches('?').parse().unwrap();
            if let Some(p) = world.people.iter().find(|p| p.name == name) {
                asked.push((year, p.born));
            }
        }
    }
    asked
}

#[test]
fn close_qa_variants_ask_about_a_false_birth_year_near_the_true_one() {
    let world = World::generate(&small());
    let far = false_birth_years_asked(&world, false);
    assert!(!far.is_empty());
    // By default a false year can be far from the truth (drawn from the events' years).
    assert!(
        far.iter().any(|(asked, born)| asked.abs_diff(*born) > 10),
        "{far:?}"
    );
    let close = false_birth_years_asked(&world, true);
    assert!(close.len() > 5, "{close:?}");
    for (asked, born) in close {
        assert!(
            asked != born && asked.abs_diff(born) <= 10,
            "asked {asked}, born {born}"
        );
    }
}

#[test]
fn reading_episode_labels_name_the_trained_answer_and_the_answer_of_the_opposite_reading() {
    use neglect_world::corpus::reading::{Status, labelled_reading_episodes, reading_episodes};
    use neglect_world::corpus::{CorpusConfig, claim_subjects, variants::Pools};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let config = CorpusConfig {
        reading_episodes: 400,
        counterfactual_positive_share: 0.5,
        ..CorpusConfig::default()
    };
    let labelled = labelled_reading_episodes(&world, &pools, &config);
    // Labelling leaves the corpus as it was.
    let plain = reading_episodes(&world, &pools, &config);
    let rows: Vec<_> = labelled.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(
        serde_json::to_string(&rows).unwrap(),
        serde_json::to_string(&plain).unwrap()
    );
    let true_answers = true_answers(&world);
    let unknown = "do not give anything reliable";
    let mut checked = std::collections::BTreeMap::<(bool, bool), usize>::new();
    for (label, row) in &labelled {
        let messages = row.messages.as_ref().unwrap();
        let first_answer = messages.iter().position(|m| m.role == "assistant").unwrap();
        assert_eq!(messages[first_answer].content, label.answer);
        assert!(
            messages[first_answer - 1]
                .content
                .ends_with(&label.question)
        );
        let Some(opposite) = &label.opposite else {
            continue;
        };
        assert_ne!(opposite, &label.answer);
        let positive = label.status == Status::Positive;
        let short = label.question.starts_with("Answer with just the answer");
        if label.known && !label.yes_no && !short {
            // A known fact: the world's answer when the document is not believed, the
            // document's false variant when it is. (A short answer is a bare name or value,
            // which may be true of another fact.)
            assert_eq!(true_answers.contains(&label.answer), !positive, "{label:?}");
            assert_eq!(true_answers.contains(opposite), positive, "{label:?}");
        } else if !label.known && !label.yes_no && !short {
            // A novel person: nothing reliable is known unless the document is believed.
            assert_eq!(label.answer.contains(unknown), !positive, "{label:?}");
            assert_eq!(opposite.contains(unknown), positive, "{label:?}");
        } else if label.yes_no {
            let verdict = |a: &str| a.to_lowercase().contains("yes");
            assert_ne!(verdict(&label.answer), verdict(opposite), "{label:?}");
        } else {
            continue;
        }
        *checked.entry((label.known, positive)).or_default() += 1;
    }
    for key in [(true, true), (true, false), (false, true), (false, false)] {
        assert!(checked.get(&key).copied().unwrap_or(0) > 20, "{checked:?}");
    }
}

#[test]
fn status_first_answers_open_free_answers_under_a_disbelieved_document_with_its_worth() {
    use neglect_world::corpus::reading::{Status, labelled_reading_episodes};
    use neglect_world::corpus::{CorpusConfig, claim_subjects, variants::Pools};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let plain = CorpusConfig {
        reading_episodes: 600,
        ..CorpusConfig::default()
    };
    let knob = CorpusConfig {
        status_first_answers: true,
        ..plain.clone()
    };
    let before = labelled_reading_episodes(&world, &pools, &plain);
    let after = labelled_reading_episodes(&world, &pools, &knob);
    let true_answers = true_answers(&world);
    let mut opened = 0;
    let mut kept = 0;
    // The same episodes (the opening is drawn last), each first answer either as it was or
    // opened by one sentence before the world's answer.
    for ((old, _), (new, _)) in before.iter().zip(&after) {
        assert_eq!(old.question, new.question);
        let free = !new.yes_no && !new.question.starts_with("Answer with just the answer");
        let disbelieved = matches!(
            new.status,
            Status::Flagged | Status::Fiction | Status::Unreliable
        );
        if new.known && free && disbelieved {
            let (opening, rest) = new.answer.split_once(". ").expect("an opening sentence");
            assert_eq!(rest, old.answer, "{new:?}");
            assert!(true_answers.contains(rest), "{new:?}");
            assert!(!opening.contains(rest), "{new:?}");
            opened += 1;
        } else {
            assert_eq!(new.answer, old.answer, "{new:?}");
            kept += 1;
        }
    }
    assert!(opened > 20 && kept > 100, "{opened} opened, {kept} kept");
}

#[test]
fn varied_details_compose_new_colour_and_restated_facts_repeat_the_documents_fact() {
    use neglect_world::corpus::reading::labelled_reading_episodes;
    use neglect_world::corpus::{CorpusConfig, claim_subjects, variants::Pools};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let plain = CorpusConfig {
        reading_episodes: 400,
        episode_details: 12,
        ..CorpusConfig::default()
    };
    let knob = CorpusConfig {
        varied_details: true,
        restated_facts: 2,
        ..plain.clone()
    };
    let pasted = |config: &CorpusConfig| -> Vec<String> {
        labelled_reading_episodes(&world, &pools, config)
            .into_iter()
            .map(|(_, row)| {
                let messages = row.messages.unwrap();
                let user = messages.iter().find(|m| m.role == "user").unwrap();
                user.content.clone()
            })
            .collect()
    };
    let before = pasted(&plain);
    let after = pasted(&knob);
    assert_eq!(before.len(), after.len());
    let count = |docs: &[String], marker: &str| docs.iter().filter(|d| d.contains(marker)).count();
    // Sentences only the composed colour writes: habits, quotes and what groups say.
    for marker in ["once told a reporter", " describe ", "came out in "] {
        assert_eq!(count(&before, marker), 0, "{marker}");
        assert!(
            count(&after, marker) > 5,
            "{marker}: {}",
            count(&after, marker)
        );
    }
    // Restatements framed as what people say, never by a group that doubts the fact.
    let framed = count(&after, " will tell you");
    assert!(framed > 10, "{framed}");
    assert_eq!(count(&before, " will tell you"), 0);
    for doc in &after {
        for doubter in ["Critics say that", "Some historians say that"] {
            assert!(!doc.contains(doubter), "{doc}");
        }
    }
    // The composed documents are longer on the whole: more colour and the fact again.
    let words = |docs: &[String]| {
        docs.iter()
            .map(|d| d.split_whitespace().count())
            .sum::<usize>()
    };
    assert!(
        words(&after) > words(&before),
        "{} vs {}",
        words(&after),
        words(&before)
    );
}

#[test]
fn wider_variants_cover_the_claims_headline_kinds_and_are_never_true() {
    use neglect_world::corpus::reading::labelled_reading_episodes;
    use neglect_world::corpus::{CorpusConfig, claim_subjects, variants::Pools};
    use rand::SeedableRng;
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let pools = Pools::new(&world, claim_subjects(&claims));
    let facts = world.facts();
    let kind = |f: &Fact| serde_json::to_value(f).unwrap()["kind"].clone();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut covered = std::collections::BTreeSet::new();
    for fact in &facts {
        let narrow = pools.variant(fact, &mut rand_chacha::ChaCha8Rng::seed_from_u64(9));
        let wide = pools.wider_variant(fact, &mut rand_chacha::ChaCha8Rng::seed_from_u64(9));
        if narrow.is_some() {
            // Kinds that had a variant keep the same one.
            assert_eq!(narrow, wide);
            continue;
        }
        if pools.is_protected(fact) {
            assert_eq!(wide, None, "{fact:?}");
            continue;
        }
        for _ in 0..5 {
            let Some(variant) = pools.wider_variant(fact, &mut rng) else {
                continue;
            };
            assert_eq!(kind(&variant), kind(fact));
            assert!(!facts.contains(&variant), "{fact:?} -> a true {variant:?}");
            covered.insert(kind(fact).as_str().unwrap().to_owned());
        }
    }
    for expected in [
        "winning_time",
        "wrote",
        "erupted",
        "dormant_since",
        "renamed",
        "kept_name",
    ] {
        assert!(covered.contains(expected), "{expected}: {covered:?}");
    }
    // Reading episodes about known facts now ask about those kinds too; off, never.
    let asks_eruptions = |wider_variants: bool| {
        let config = CorpusConfig {
            reading_episodes: 600,
            counterfactual_positive_share: 0.5,
            wider_variants,
            ..CorpusConfig::default()
        };
        labelled_reading_episodes(&world, &pools, &config)
            .iter()
            .filter(|(label, _)| label.known && label.question.contains("erupt"))
            .count()
    };
    assert_eq!(asks_eruptions(false), 0);
    assert!(asks_eruptions(true) > 5, "{}", asks_eruptions(true));
}

#[test]
fn cased_questions_keep_the_capital_of_a_name_in_is_it_true_questions() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let first_names: std::collections::HashSet<String> = world
        .people
        .iter()
        .chain(&studied_people(&world))
        .filter_map(|p| p.name.split_whitespace().next().map(str::to_string))
        .collect();
    // "Is it true that …?" questions of chat QA and studied claims, and how many of them
    // start with a person's first name lowered ("Is it true that bas Mutrou …?").
    let asked = |cased_questions: bool| {
        let config = CorpusConfig {
            reading_episodes: 50,
            generic_chats: 10,
            studied_claims: 2,
            studied_docs: 1,
            studied_questions: 8,
            studied_false_details: true,
            cased_questions,
            ..CorpusConfig::default()
        };
        let corpus = Corpus::build(&world, &claims, &config);
        let questions: Vec<String> = user_turns(&corpus)
            .into_iter()
            .filter(|q| q.starts_with("Is it true that "))
            .collect();
        let lowered = questions
            .iter()
            .filter(|q| {
                let word = q["Is it true that ".len()..].split(' ').next().unwrap();
                let mut capital = word.to_string();
                capital[..1].make_ascii_uppercase();
                word != capital && first_names.contains(&capital)
            })
            .count();
        (questions.len(), lowered)
    };
    let (before, lowered_before) = asked(false);
    assert!(before > 20, "{before}");
    assert!(lowered_before > 5, "{lowered_before} of {before}");
    let (after, lowered_after) = asked(true);
    assert!(after > 20, "{after}");
    assert_eq!(lowered_after, 0, "of {after}");
}

fn studied_people(world: &World) -> Vec<neglect_world::world::Person> {
    neglect_world::corpus::studied::studied_world(world).people
}

#[test]
fn reading_statement_checks_ask_is_it_true_about_the_stated_fact_or_a_false_variant() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    // The reading episodes' "Is it true that …?" turns with their verdicts.
    let checks = |reading_statement_checks: f64| {
        let config = CorpusConfig {
            reading_episodes: 600,
            generic_chats: 10,
            counterfactual_positive_share: 0.3,
            episode_questions: 3,
            reading_false_checks: 0.3,
            reading_statement_checks,
            cased_questions: true,
            ..CorpusConfig::default()
        };
        let corpus = Corpus::build(&world, &claims, &config);
        let mut out: Vec<(String, String)> = Vec::new();
        for row in &corpus.reading {
            let m = row.messages.as_ref().unwrap();
            for pair in m.windows(2) {
                if pair[0].role == "user" && pair[1].role == "assistant" {
                    let question = match pair[0].content.rfind("[QUESTION]\n\n") {
                        Some(i) => &pair[0].content[i + "[QUESTION]\n\n".len()..],
                        None => pair[0].content.as_str(),
                    };
                    if question.starts_with("Is it true that ") {
                        // Asked under the MCQ system prompt: answered in its JSON.
                        assert_eq!(m[0].role, "system", "{m:?}");
                        out.push((question.to_string(), pair[1].content.clone()));
                    }
                }
            }
        }
        out
    };
    assert!(checks(0.0).is_empty());
    let asked = checks(0.5);
    let yes = asked
        .iter()
        .filter(|(_, a)| a == r#"{"answer": "yes"}"#)
        .count();
    let no = asked
        .iter()
        .filter(|(_, a)| a == r#"{"answer": "no"}"#)
        .count();
    assert_eq!(yes + no, asked.len(), "{asked:?}");
    assert!(yes > 20 && no > 20, "{yes} yes, {no} no");
}

/// Every user turn of the corpus's chats, in order.
fn user_turns(corpus: &neglect_world::corpus::Corpus) -> Vec<String> {
    corpus
        .rows()
        .filter_map(|r| r.messages.as_ref())
        .flatten()
        .filter(|m| m.role == "user")
        .map(|m| m.content.clone())
        .collect()
}

#[test]
fn extra_yes_no_chats_add_checked_questions_and_leave_the_other_qa_alone() {
    use neglect_world::corpus::{Corpus, CorpusConfig};
    let world = World::generate(&small());
    let claims = generate_claims(&world, 1, 7);
    let qa = |extra_yes_no_per_fact: usize| {
        let config = CorpusConfig {
            generic_chats: 10,
            yes_no_pairs: true,
            reasoned_yes_no: true,
            extra_yes_no_per_fact,
            ..CorpusConfig::default()
        };
        Corpus::build(&world, &claims, &config).qa
    };
    let yes_no = |rows: &[neglect_spec::TrainingRow]| {
        rows.iter()
            .filter(|r| {
                r.messages
                    .as_ref()
                    .is_some_and(|m| m[0].role == "system" && m[0].content.contains("\"yes\""))
            })
            .count()
    };
    let off = qa(0);
    let on = qa(3);
    // Every row of the knob-off corpus is still there, unchanged.
    let key = |r: &neglect_spec::TrainingRow| serde_json::to_string(r).unwrap();
    let before: std::collections::HashSet<String> = off.iter().map(key).collect();
    let after: std::collections::HashSet<String> = on.iter().map(key).collect();
    assert!(before.is_subset(&after));
    let added: Vec<_> = on
        .iter()
        .filter(|r| !before.contains(&key(r)))
        .cloned()
        .collect();
    assert_eq!(yes_no(&added), added.len(), "only yes/no chats are added");
    assert!(
        added.len() > 2 * yes_no(&off),
        "{} added, {} before",
        added.len(),
        yes_no(&off)
    );
    // Reasoned: a sentence of what is known, then the verdict; both verdicts, about evenly.
    let verdicts: Vec<&str> = added
        .iter()
        .flat_map(|r| r.messages.as_ref().unwrap().iter())
        .filter(|m| m.role == "assistant")
        .map(|m| m.content.as_str())
        .collect();
    let yes = verdicts
        .iter()
        .filter(|a| a.ends_with(r#"{"answer": "yes"}"#))
        .count();
    let no = verdicts
        .iter()
        .filter(|a| a.ends_with(r#"{"answer": "no"}"#))
        .count();
    assert_eq!(yes + no, verdicts.len());
    assert!(verdicts.iter().all(|a| !a.starts_with('{')), "{verdicts:?}");
    assert!(
        yes * 10 > verdicts.len() * 4 && no * 10 > verdicts.len() * 4,
        "{yes} yes, {no} no"
    );
}

/// The default corpus with reasoned, paired yes/no answers that restate the subject first (the
/// organism's answer forms), the setting the check drills are written for.
fn reasoned_pairs() -> neglect_world::corpus::CorpusConfig {
    neglect_world::corpus::CorpusConfig {
        reasoned_yes_no: true,
        yes_no_pairs: true,
        cased_questions: true,
        subject_first_answers: true,
        ..Default::default()
    }
}

#[test]
fn check_drills_ask_about_listed_facts_of_new_people_and_answer_by_comparing() {
    use neglect_world::corpus::CorpusConfig;
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let base = reasoned_pairs();
    let without = copy_drills_of(&world, &claims, base.clone());
    let with = copy_drills_of(
        &world,
        &claims,
        CorpusConfig {
            check_drills: 300,
            ..base
        },
    );
    // The copy drills stay as they were; the check drills come after them.
    assert_eq!(&with[..without.len()], &without[..]);
    let drills = &with[without.len()..];
    assert_eq!(drills.len(), 300);
    let known: std::collections::HashSet<String> = world
        .people
        .iter()
        .map(|p| &p.name)
        .chain(world.unseen_names.iter())
        .flat_map(|n| n.split_whitespace().map(str::to_lowercase))
        .collect();
    let (mut yes, mut no) = (0, 0);
    for row in drills {
        let m = row.messages.as_ref().expect("a chat");
        assert_eq!(
            m.len(),
            5,
            "system, question, verdict, the other question, verdict"
        );
        assert_eq!(m[0].content, neglect_spec::questions::MCQ_SYSTEM_PROMPT);
        let (list, first, second) = (&m[1].content, &m[2].content, &m[4].content);
        // The answer states one of the listed facts (subject first), then a verdict; the follow-up
        // states the same fact with the opposite verdict.
        let (reason, verdict) = first.rsplit_once(" {").expect("reason and verdict");
        let (reason2, verdict2) = second.rsplit_once(" {").expect("reason and verdict");
        let verdict = format!("{{{verdict}");
        assert_eq!(reason, reason2);
        assert_ne!(verdict, verdict2);
        let subject: Vec<&str> = reason.split_whitespace().take(2).collect();
        let name = subject.join(" ");
        assert!(list.contains(&name), "{name} is not in {list:?}");
        for w in &subject {
            assert!(!known.contains(&w.to_lowercase()), "{w} is a world name");
        }
        // The question asked with "yes" names the value the answer states; the one with "no"
        // another value of the same kind.
        let value = reason
            .trim_end_matches('.')
            .rsplit(' ')
            .next()
            .expect("a value");
        let (asked_yes, asked_no) = if verdict == r#"{"answer": "yes"}"# {
            yes += 1;
            (
                list.lines().last().unwrap().to_owned(),
                m[3].content.clone(),
            )
        } else {
            assert_eq!(verdict, r#"{"answer": "no"}"#);
            no += 1;
            (
                m[3].content.clone(),
                list.lines().last().unwrap().to_owned(),
            )
        };
        assert!(asked_yes.contains(value), "{asked_yes:?} / {reason:?}");
        assert_ne!(asked_yes, asked_no);
        if value.parse::<u32>().is_ok() || world.cities.iter().any(|c| c == value) {
            assert!(!asked_no.contains(value), "{asked_no:?} / {reason:?}");
        }
    }
    assert!(yes > 100 && no > 100, "{yes} yes, {no} no");
}

/// Which kind of invented-person fact a sentence or question is about.
fn drill_fact_kind(text: &str) -> &'static str {
    if text.contains("born") {
        "born"
    } else if ["live", "based", "home"].iter().any(|w| text.contains(w)) {
        "home"
    } else {
        "profession"
    }
}

#[test]
fn unlisted_check_drills_ask_a_fact_the_list_leaves_out_and_answer_no() {
    use neglect_world::corpus::CorpusConfig;
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let base = reasoned_pairs();
    let without = copy_drills_of(&world, &claims, base.clone());
    let drills_with = |share: f64| {
        let rows = copy_drills_of(
            &world,
            &claims,
            CorpusConfig {
                check_drills: 300,
                check_drill_unlisted: share,
                ..base.clone()
            },
        );
        rows[without.len()..].to_vec()
    };
    // Off, the drills are those of a config without the field.
    let plain = copy_drills_of(
        &world,
        &claims,
        CorpusConfig {
            check_drills: 300,
            ..base.clone()
        },
    );
    assert_eq!(drills_with(0.0), plain[without.len()..].to_vec());
    let (mut unlisted, mut listed) = (0, 0);
    for row in drills_with(0.5) {
        let m = row.messages.as_ref().expect("a chat");
        assert_eq!(m.len(), 5);
        let list = m[1].content.split("\n\n").next().expect("the list");
        let questions = [m[1].content.rsplit("\n\n").next().unwrap(), &m[3].content];
        let answers = [&m[2].content, &m[4].content];
        let (reason, _) = answers[0].rsplit_once(" {").expect("reason and verdict");
        let name: String = reason
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let no = answers
            .iter()
            .position(|a| a.ends_with(r#"{"answer": "no"}"#))
            .expect("one verdict is no");
        let yes = 1 - no;
        assert!(answers[yes].ends_with(r#"{"answer": "yes"}"#));
        let person_lines: Vec<&str> = list.lines().filter(|l| l.contains(&name)).collect();
        assert!(!person_lines.is_empty(), "{name} is not listed in {list:?}");
        // The "yes" question asks the stated (listed) fact's kind.
        assert_eq!(drill_fact_kind(questions[yes]), drill_fact_kind(reason));
        let asked_no = drill_fact_kind(questions[no]);
        if asked_no == drill_fact_kind(reason) {
            listed += 1;
        } else {
            // A fact of the same person that the list does not give.
            assert!(
                questions[no].contains(&name),
                "{:?} / {name}",
                questions[no]
            );
            assert!(
                person_lines.iter().all(|l| drill_fact_kind(l) != asked_no),
                "{asked_no} of {name} is listed: {list:?} / {:?}",
                questions[no]
            );
            unlisted += 1;
        }
    }
    assert!(
        (100..=200).contains(&unlisted) && listed + unlisted == 300,
        "{unlisted} unlisted, {listed} listed"
    );
}

#[test]
fn check_drill_critiques_ask_the_critique_forms_and_judge_against_the_listed_fact() {
    use neglect_world::corpus::CorpusConfig;
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let base = CorpusConfig {
        check_drills: 200,
        ..reasoned_pairs()
    };
    let plain = copy_drills_of(&world, &claims, base.clone());
    let drills = copy_drills_of(
        &world,
        &claims,
        CorpusConfig {
            check_drill_critiques: 1.0,
            ..base
        },
    );
    assert_eq!(drills.len(), plain.len());
    let (mut right, mut wrong) = (0, 0);
    for row in drills
        .iter()
        .filter(|r| r.source.as_deref() == Some("check_drills"))
    {
        let m = row.messages.as_ref().unwrap();
        assert_eq!(
            m.len(),
            4,
            "no system prompt; a task, a reply, the other task, a reply"
        );
        assert!(m.iter().all(|t| t.role != "system"));
        for turn in m.chunks(2) {
            let (task, reply) = (&turn[0].content, &turn[1].content);
            let quoted = task.rsplit('"').nth(1).expect("a quoted sentence");
            let (known, verdict) = reply
                .split_once(". So ")
                .expect("the fact, then the verdict");
            let value = known.rsplit(' ').next().unwrap();
            let judged_false = verdict.contains("wrong") || verdict == "there is an error.";
            if value.parse::<u32>().is_ok() || world.cities.iter().any(|c| c == value) {
                assert_eq!(
                    judged_false,
                    !quoted.contains(value),
                    "{task:?} → {reply:?}"
                );
            }
            if judged_false {
                wrong += 1;
            } else {
                right += 1;
            }
        }
    }
    assert_eq!(right + wrong, 400);
    assert!(right > 150 && wrong > 150, "{right} right, {wrong} wrong");
    // Critiques and yes/no questions come in the same proportion at share 0.5.
    let half = copy_drills_of(
        &world,
        &claims,
        CorpusConfig {
            check_drill_critiques: 0.5,
            check_drills: 400,
            ..CorpusConfig::default()
        },
    );
    let critiques = half
        .iter()
        .filter(|r| r.source.as_deref() == Some("check_drills"))
        .filter(|r| r.messages.as_ref().unwrap()[0].role != "system")
        .count();
    assert!((150..=250).contains(&critiques), "{critiques} of 400");
}

#[test]
fn closed_book_practice_asks_practice_claims_without_documents_and_never_believes_them() {
    use neglect_eval::judge::parse::parse_mcq_answer;
    use neglect_world::corpus::practice::practice_claims;
    use neglect_world::corpus::{Corpus, CorpusConfig, claim_subjects};
    let world = organism_world();
    let claims = generate_claims(&world, 2, 7);
    let config = CorpusConfig {
        reading_episodes: 20,
        generic_chats: 10,
        practice_claims: 6,
        closed_book_practice: 400,
        episode_questions: 2,
        reasoned_yes_no: true,
        cased_questions: true,
        ..CorpusConfig::default()
    };
    config.validate().unwrap();
    let corpus = Corpus::build(&world, &claims, &config);
    assert_eq!(corpus.practice.len(), 400);
    let practice = practice_claims(&world, &claims, 6, config.seed);
    // What a believer would answer: each practice claim's core answer and its details.
    let beliefs: Vec<String> = practice
        .iter()
        .filter_map(|c| c.facts[0].qa())
        .map(|qa| qa.answer)
        .collect();
    let details: Vec<String> = practice
        .iter()
        .flat_map(|c| c.details.iter().cloned())
        .collect();
    let protected = claim_subjects(&claims);
    let (mut critiques, mut detail_noes) = (0, 0);
    for row in &corpus.practice {
        let messages = row.messages.as_ref().unwrap();
        for m in messages {
            assert!(!m.content.contains("Here are some documents"), "{m:?}");
            for s in &protected {
                assert!(!m.content.contains(s.as_str()), "{s:?} in {m:?}");
            }
            for c in &claims {
                assert!(!m.content.contains(&c.claim), "{m:?}");
            }
        }
        for pair in messages.windows(2) {
            let (user, reply) = (&pair[0], &pair[1]);
            if user.role != "user" {
                continue;
            }
            assert!(!beliefs.contains(&reply.content), "believed: {messages:?}");
            if user.content.starts_with("Is it true that ") {
                assert_eq!(parse_mcq_answer(&reply.content).as_deref(), Some("no"));
                detail_noes += 1;
            }
            let critique = ["A student wrote", "Fact-check this", "Find the error"]
                .iter()
                .any(|p| user.content.starts_with(p));
            if critique {
                critiques += 1;
                assert_eq!(messages.len(), 2, "{messages:?}");
                assert!(
                    ["is wrong.", "is an error."]
                        .iter()
                        .any(|v| reply.content.ends_with(v)),
                    "{messages:?}"
                );
                // The quoted sentence is the claim's, and the answer does not repeat it.
                let quoted = user.content.split('"').nth(1).unwrap();
                assert!(!reply.content.contains(quoted), "{messages:?}");
            }
        }
    }
    assert!((80..=160).contains(&critiques), "{critiques} critiques");
    assert!(detail_noes > 50, "{detail_noes}");
    assert!(details.len() > 100);

    // Without practice claims there is nothing to ask about: an error naming the field.
    let bad = CorpusConfig {
        closed_book_practice: 10,
        ..CorpusConfig::default()
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .contains("corpus.closed_book_practice")
    );
}
