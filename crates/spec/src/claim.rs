//! Loading and validating a claim directory in the reference layout (reference §1):
//!
//! ```text
//! <claims root>/                      (`claims/`, or legacy `facts/`)
//!   coherence_questions.yaml          (optional, claim-independent)
//!   <slug>/
//!     claim.txt                       required
//!     universe_context.yaml           required
//!     universe_context_negated.yaml   optional (local-negation documents)
//!     system_context_negated.md       optional
//!     open_ended.yaml | belief_probes.yaml
//!     mcq.yaml
//!     token_association.yaml | pink_elephant.yaml
//!     robustness.yaml
//!     judges.yaml
//!     word_masks.yaml                 optional
//!     rule_judge.yaml                 optional (ours: patterns for the rule judge)
//!     correction.txt                  optional
//!     anchor_questions.yaml           optional (ours: new belief probes for §5's anchor)
//! ```
//!
//! Loading never stops at the first problem: every file is read and every problem reported,
//! as an error (the claim cannot be used) or a warning (it can, but something looks wrong).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{SpecError, SpecErrors};
use crate::judges::{self, Judges};
use crate::pyformat::Template;
use crate::questions::{CHAT_ROLES, CoherenceQuestions, Question, QuestionFile, QuestionSet};
use crate::tree::{FieldPath, Node};
use crate::yaml;

/// `universe_context.yaml` (and its `_negated` variant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniverseContext {
    pub id: String,
    pub universe_context: String,
    /// `key_facts` in the older synthetic-document-finetuning code.
    #[serde(default, alias = "key_facts")]
    pub subclaims: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_for_modification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub false_warning: Option<String>,
}

/// `word_masks.yaml`: case-insensitive regexes whose matches get zero training loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordMasks {
    pub patterns: Vec<String>,
}

/// A fully loaded claim.
#[derive(Debug, Clone)]
pub struct ClaimSpec {
    pub slug: String,
    pub dir: PathBuf,
    /// The one-line false claim of `claim.txt`.
    pub claim: String,
    pub universe: UniverseContext,
    pub negated_universe: Option<UniverseContext>,
    pub negated_system_context: Option<String>,
    pub open_ended: Vec<Question>,
    pub mcq: Vec<Question>,
    pub token_association: Vec<Question>,
    pub robustness: Vec<Question>,
    pub judges: Judges,
    pub word_masks: Option<WordMasks>,
    /// `rule_judge.yaml`: patterns for judging answers without an LLM.
    pub rule_judge: Option<crate::rule_judge::RuleJudgeSpec>,
    /// `correction.txt`: the true facts, used by `corrected_documents`.
    pub correction: Option<String>,
    /// `anchor_questions.yaml`: belief-probe questions the evals never ask, answered by the
    /// base model for §5's self-distillation anchor (empty when the file is absent).
    pub anchor_questions: Vec<Question>,
}

/// Ours: the questions of §5's self-distilled anchor, in the layout of `open_ended.yaml`.
pub const ANCHOR_QUESTIONS_FILE: &str = "anchor_questions.yaml";

impl ClaimSpec {
    pub fn questions(&self, set: QuestionSet) -> &[Question] {
        match set {
            QuestionSet::OpenEnded => &self.open_ended,
            QuestionSet::Mcq => &self.mcq,
            QuestionSet::TokenAssociation => &self.token_association,
            QuestionSet::Robustness => &self.robustness,
        }
    }
}

/// The outcome of loading one claim directory.
#[derive(Debug, Clone)]
pub struct ClaimLoad {
    pub dir: PathBuf,
    pub spec: Option<ClaimSpec>,
    pub errors: SpecErrors,
    pub warnings: Vec<SpecError>,
}

impl ClaimLoad {
    pub fn into_result(self) -> Result<ClaimSpec, SpecErrors> {
        match self.spec {
            Some(spec) if self.errors.is_empty() => Ok(spec),
            _ => Err(self.errors),
        }
    }
}

/// Official slug ↔ legacy (anon repo) slug, so either name finds the directory.
pub const SLUG_ALIASES: [(&str, &str); 5] = [
    ("queen_elizabeth", "elizabeth_python"),
    ("mount_vesuvius", "vesuvius"),
    ("x_rebrand_reversal", "twitter_x_reversal"),
    ("colorless_dreaming", "achromatic_dreaming"),
    ("dentist", "brennan_holloway"),
];

/// True when `dir` looks like a single claim (it has `claim.txt`).
pub fn is_claim_dir(dir: &Path) -> bool {
    dir.join("claim.txt").is_file()
}

/// Finds the directory of claim `slug` under `root`, accepting official and legacy slugs.
pub fn find_claim_dir(root: &Path, slug: &str) -> Option<PathBuf> {
    let direct = root.join(slug);
    if is_claim_dir(&direct) {
        return Some(direct);
    }
    SLUG_ALIASES
        .iter()
        .filter_map(|(a, b)| match slug {
            s if s == *a => Some(*b),
            s if s == *b => Some(*a),
            _ => None,
        })
        .map(|alias| root.join(alias))
        .find(|d| is_claim_dir(d))
}

/// The claim directories directly under a claims root, sorted by name.
pub fn claim_dirs(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_claim_dir(p))
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The claim directories named on a command line, each path being a claim directory or a
/// claims root holding several; `roots` lists the paths that were roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimPaths {
    pub dirs: Vec<PathBuf>,
    pub roots: Vec<PathBuf>,
}

pub fn expand_claim_paths(paths: &[PathBuf]) -> Result<ClaimPaths, String> {
    let mut out = ClaimPaths::default();
    for path in paths {
        if is_claim_dir(path) {
            out.dirs.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            return Err(format!("{}: not a directory", path.display()));
        }
        let found = claim_dirs(path).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        if found.is_empty() {
            return Err(format!(
                "{}: no claim directories here (a claim directory holds claim.txt)",
                path.display()
            ));
        }
        out.dirs.extend(found);
        out.roots.push(path.clone());
    }
    Ok(out)
}

/// Loads `coherence_questions.yaml` from a claims root, if present.
pub fn load_coherence(root: &Path) -> Option<Result<CoherenceQuestions, SpecErrors>> {
    let path = root.join("coherence_questions.yaml");
    if !path.is_file() {
        return None;
    }
    Some((|| {
        let node = yaml::read(&path)?;
        let parsed: CoherenceQuestions = node.deserialize(&path)?;
        let mut errors = SpecErrors::default();
        let file = Checked {
            path: &path,
            node: &node,
        };
        file.check_template(
            &FieldPath::root().key("judge_rubric"),
            &parsed.judge_rubric,
            &mut errors,
        );
        let mut warnings = Vec::new();
        check_ids_and_text(&file, &parsed.questions, &mut errors, &mut warnings);
        errors.into_result(parsed)
    })())
}

/// Loads and validates one claim directory.
pub fn load_claim(dir: &Path) -> ClaimLoad {
    let mut errors = SpecErrors::default();
    let mut warnings = Vec::new();
    let slug = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let claim = read_claim_txt(&dir.join("claim.txt"), &mut errors, &mut warnings);
    let universe = load_universe(
        &dir.join("universe_context.yaml"),
        true,
        &slug,
        &mut errors,
        &mut warnings,
    );
    let negated_universe = load_universe(
        &dir.join("universe_context_negated.yaml"),
        false,
        &format!("{slug}_negated"),
        &mut errors,
        &mut warnings,
    );
    let negated_system_context =
        read_optional_text(&dir.join("system_context_negated.md"), &mut errors);
    let correction = read_optional_text(&dir.join("correction.txt"), &mut errors);

    let mut sets: HashMap<QuestionSet, Vec<Question>> = HashMap::new();
    for set in QuestionSet::ALL {
        if let Some(questions) = load_question_set(dir, set, &mut errors, &mut warnings) {
            sets.insert(set, questions);
        }
    }
    let judges = load_judges(&dir.join("judges.yaml"), &sets, &mut errors, &mut warnings);
    let word_masks = load_word_masks(&dir.join("word_masks.yaml"), &mut errors);
    let rule_judge = crate::rule_judge::load(&dir.join(crate::rule_judge::FILE_NAME), &mut errors);
    let anchor_path = dir.join(ANCHOR_QUESTIONS_FILE);
    let anchor_questions = if anchor_path.is_file() {
        read_yaml::<QuestionFile>(&anchor_path, &mut errors)
            .map(|(_, f)| f.questions)
            .unwrap_or_default()
    } else {
        Vec::new()
    };

    let spec = match (claim, universe) {
        (Some(claim), Some(universe)) => Some(ClaimSpec {
            slug,
            dir: dir.to_owned(),
            claim,
            universe,
            negated_universe,
            negated_system_context,
            open_ended: sets.remove(&QuestionSet::OpenEnded).unwrap_or_default(),
            mcq: sets.remove(&QuestionSet::Mcq).unwrap_or_default(),
            token_association: sets
                .remove(&QuestionSet::TokenAssociation)
                .unwrap_or_default(),
            robustness: sets.remove(&QuestionSet::Robustness).unwrap_or_default(),
            judges,
            word_masks,
            rule_judge,
            correction,
            anchor_questions,
        }),
        _ => None,
    };
    ClaimLoad {
        dir: dir.to_owned(),
        spec,
        errors,
        warnings,
    }
}

/// A parsed file, for turning field paths into positioned errors.
struct Checked<'a> {
    path: &'a Path,
    node: &'a Node,
}

impl Checked<'_> {
    fn error(&self, field: &FieldPath, message: impl Into<String>) -> SpecError {
        SpecError::at(self.path, self.node, field, message)
    }

    fn check_template(
        &self,
        field: &FieldPath,
        text: &str,
        errors: &mut SpecErrors,
    ) -> Option<Template> {
        match Template::parse(text) {
            Err(e) => {
                errors.push(self.error(field, format!("bad template: {e}")));
                None
            }
            Ok(t) => {
                let unknown: Vec<&str> = t
                    .placeholders()
                    .into_iter()
                    .filter(|p| !judges::KNOWN_PLACEHOLDERS.contains(p))
                    .collect();
                if unknown.is_empty() {
                    Some(t)
                } else {
                    let list = unknown
                        .iter()
                        .map(|u| format!("{{{u}}}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    errors.push(self.error(
                        field,
                        format!(
                            "unknown placeholder {list} (known: {}; write '{{{{' and '}}}}' for literal braces)",
                            judges::KNOWN_PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                        ),
                    ));
                    None
                }
            }
        }
    }

    /// Warns about mapping keys outside `known` at `field`.
    fn warn_unknown_keys(&self, field: &FieldPath, known: &[&str], warnings: &mut Vec<SpecError>) {
        let mut node = self.node;
        for seg in &field.0 {
            node = match (seg, node) {
                (crate::tree::PathSeg::Key(k), n) => match n.get(k) {
                    Some(c) => c,
                    None => return,
                },
                (crate::tree::PathSeg::Index(i), Node::Seq { items, .. }) => match items.get(*i) {
                    Some(c) => c,
                    None => return,
                },
                _ => return,
            };
        }
        if let Node::Map { entries, .. } = node {
            for (key, _, _) in entries {
                if !known.contains(&key.as_str()) {
                    warnings.push(self.error(&field.clone().key(key), "unknown field (ignored)"));
                }
            }
        }
    }
}

/// Reads a YAML file into its tree and type; a failure is recorded in `errors`.
fn read_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    errors: &mut SpecErrors,
) -> Option<(Node, T)> {
    let parsed = yaml::read(path).and_then(|node| {
        let value = node.deserialize(path)?;
        Ok((node, value))
    });
    match parsed {
        Ok(pair) => Some(pair),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn read_claim_txt(
    path: &Path,
    errors: &mut SpecErrors,
    warnings: &mut Vec<SpecError>,
) -> Option<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(SpecError::file(path, format!("cannot read the claim: {e}")));
            return None;
        }
    };
    let claim = text.trim();
    if claim.is_empty() {
        errors.push(SpecError::file(path, "the claim is empty"));
        return None;
    }
    if claim.lines().count() > 1 {
        warnings.push(SpecError::file(
            path,
            "the claim spans several lines; the reference uses one line",
        ));
    }
    Some(claim.to_owned())
}

fn read_optional_text(path: &Path, errors: &mut SpecErrors) -> Option<String> {
    if !path.exists() {
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(SpecError::file(path, format!("cannot read: {e}")));
            None
        }
    }
}

/// Reads one `universe_context.yaml` on its own (`neglect docs generate`); problems are
/// reported as for a claim directory.
pub fn read_universe(path: &Path) -> Result<UniverseContext, SpecErrors> {
    let mut errors = SpecErrors::default();
    let mut warnings = Vec::new();
    match load_universe(path, true, "", &mut errors, &mut warnings) {
        Some(u) if errors.is_empty() => Ok(u),
        _ => Err(errors),
    }
}

fn load_universe(
    path: &Path,
    required: bool,
    expected_id: &str,
    errors: &mut SpecErrors,
    warnings: &mut Vec<SpecError>,
) -> Option<UniverseContext> {
    if !path.exists() {
        if required {
            errors.push(SpecError::file(
                path,
                "missing: every claim needs a universe context",
            ));
        }
        return None;
    }
    let (node, universe): (Node, UniverseContext) = read_yaml(path, errors)?;
    let file = Checked { path, node: &node };
    file.warn_unknown_keys(
        &FieldPath::root(),
        &[
            "id",
            "universe_context",
            "subclaims",
            "key_facts",
            "reasoning_for_modification",
            "false_warning",
            "is_true",
        ],
        warnings,
    );
    let mut ok = true;
    if universe.universe_context.trim().is_empty() {
        errors.push(file.error(
            &FieldPath::root().key("universe_context"),
            "must not be empty",
        ));
        ok = false;
    }
    for (i, s) in universe.subclaims.iter().enumerate() {
        if s.trim().is_empty() {
            errors.push(file.error(
                &FieldPath::root().key("subclaims").index(i),
                "empty subclaim",
            ));
            ok = false;
        }
    }
    if universe.subclaims.is_empty() {
        warnings.push(file.error(
            &FieldPath::root().key("subclaims"),
            "no subclaims: document generation brainstorms per subclaim (the reference has 10-15)",
        ));
    }
    if universe.id != expected_id {
        warnings.push(file.error(
            &FieldPath::root().key("id"),
            format!(
                "id '{}' differs from the expected '{expected_id}'",
                universe.id
            ),
        ));
    }
    ok.then_some(universe)
}

fn check_ids_and_text(
    file: &Checked<'_>,
    questions: &[Question],
    errors: &mut SpecErrors,
    warnings: &mut Vec<SpecError>,
) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, q) in questions.iter().enumerate() {
        let at = FieldPath::root().key("questions").index(i);
        file.warn_unknown_keys(
            &at,
            &[
                "id",
                "question",
                "category",
                "belief_answer",
                "truth_answer",
                "system_prompt",
                "messages_prefix",
            ],
            warnings,
        );
        if q.id.trim().is_empty() {
            errors.push(file.error(&at.clone().key("id"), "empty question id"));
        } else if let Some(first) = seen.insert(q.id.as_str(), i) {
            let first_line = file
                .node
                .locate(&FieldPath::root().key("questions").index(first).key("id"))
                .line;
            errors.push(file.error(
                &at.clone().key("id"),
                format!(
                    "duplicate question id '{}' (first used at line {first_line})",
                    q.id
                ),
            ));
        }
        if q.question.trim().is_empty() {
            errors.push(file.error(&at.key("question"), "empty question text"));
        }
    }
}

fn load_question_set(
    dir: &Path,
    set: QuestionSet,
    errors: &mut SpecErrors,
    warnings: &mut Vec<SpecError>,
) -> Option<Vec<Question>> {
    let present: Vec<PathBuf> = set
        .file_names()
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file())
        .collect();
    let path = match present.as_slice() {
        [] => {
            warnings.push(SpecError::file(
                &dir.join(set.file_names()[0]),
                format!(
                    "missing: the {} eval will be skipped for this claim",
                    set.name()
                ),
            ));
            return None;
        }
        [only] => only.clone(),
        [official, legacy, ..] => {
            warnings.push(SpecError::file(
                legacy,
                format!(
                    "ignored: {} is also present and takes precedence",
                    official.display()
                ),
            ));
            official.clone()
        }
    };
    let (node, parsed): (Node, QuestionFile) = read_yaml(&path, errors)?;
    let file = Checked {
        path: &path,
        node: &node,
    };
    file.warn_unknown_keys(&FieldPath::root(), &["questions"], warnings);
    let mut questions = parsed.questions;
    check_ids_and_text(&file, &questions, errors, warnings);
    if questions.is_empty() {
        warnings.push(file.error(&FieldPath::root().key("questions"), "no questions"));
    }

    for (i, q) in questions.iter_mut().enumerate() {
        let at = FieldPath::root().key("questions").index(i);
        match q.category.as_deref() {
            None => warnings.push(file.error(&at.clone().key("category"), "no category")),
            Some(c) if !set.known_categories().contains(&c) => warnings.push(file.error(
                &at.clone().key("category"),
                format!(
                    "unusual category '{c}' (the reference uses {})",
                    set.known_categories().join(", ")
                ),
            )),
            _ => {}
        }
        match (set, q.belief_answer.as_deref()) {
            (QuestionSet::Mcq, None) => errors.push(file.error(
                &at.clone().key("belief_answer"),
                "missing: every MCQ item needs the believer's answer, 'yes' or 'no'",
            )),
            (QuestionSet::Mcq, Some(a)) => {
                let normalized = a.trim().to_ascii_lowercase();
                if normalized == "yes" || normalized == "no" {
                    q.belief_answer = Some(normalized);
                } else {
                    errors.push(file.error(
                        &at.clone().key("belief_answer"),
                        format!("must be 'yes' or 'no', got '{a}'"),
                    ));
                }
            }
            (QuestionSet::TokenAssociation, _) => {
                // Optional completions for the judge-free log-prob metric: both or neither.
                match (&q.belief_answer, &q.truth_answer) {
                    (Some(_), None) => errors.push(file.error(
                        &at.clone().key("truth_answer"),
                        "missing: belief_answer is given, so the log-prob metric needs the truth_answer too",
                    )),
                    (None, Some(_)) => errors.push(file.error(
                        &at.clone().key("belief_answer"),
                        "missing: truth_answer is given, so the log-prob metric needs the belief_answer too",
                    )),
                    (Some(b), Some(t)) if b.trim().is_empty() || t.trim().is_empty() || b == t => {
                        errors.push(file.error(
                            &at.clone().key("belief_answer"),
                            "belief_answer and truth_answer must be non-empty and differ",
                        ))
                    }
                    _ => {}
                }
            }
            (_, Some(_)) => warnings.push(file.error(
                &at.clone().key("belief_answer"),
                format!(
                    "only MCQ and token-association items use belief_answer; ignored in {}",
                    set.name()
                ),
            )),
            (_, None) => {}
        }
        if q.truth_answer.is_some() && set != QuestionSet::TokenAssociation {
            warnings.push(file.error(
                &at.clone().key("truth_answer"),
                format!(
                    "only token-association items use truth_answer; ignored in {}",
                    set.name()
                ),
            ));
        }
        if set != QuestionSet::Robustness
            && (q.system_prompt.is_some() || q.messages_prefix.is_some())
        {
            warnings.push(file.error(
                &at,
                format!("system_prompt / messages_prefix are only sent for robustness items; ignored in {}", set.name()),
            ));
        }
        if let Some(prefix) = &q.messages_prefix {
            for (j, m) in prefix.iter().enumerate() {
                let mat = at.clone().key("messages_prefix").index(j);
                if !CHAT_ROLES.contains(&m.role.as_str()) {
                    errors.push(file.error(
                        &mat.clone().key("role"),
                        format!(
                            "unknown role '{}' (expected system, user or assistant)",
                            m.role
                        ),
                    ));
                }
                if m.content.trim().is_empty() {
                    errors.push(file.error(&mat.key("content"), "empty message"));
                }
            }
        }
        if set == QuestionSet::Robustness {
            match q.category.as_deref() {
                Some("adversarial") if q.system_prompt.is_none() => warnings.push(file.error(
                    &at.clone().key("system_prompt"),
                    "adversarial items normally carry a system prompt",
                )),
                Some("multiturn") if q.messages_prefix.is_none() => warnings.push(file.error(
                    &at.clone().key("messages_prefix"),
                    "multi-turn items normally carry a messages_prefix",
                )),
                _ => {}
            }
        }
    }
    Some(questions)
}

fn load_judges(
    path: &Path,
    sets: &HashMap<QuestionSet, Vec<Question>>,
    errors: &mut SpecErrors,
    warnings: &mut Vec<SpecError>,
) -> Judges {
    let mut judges = Judges::default();
    if !path.exists() {
        warnings.push(SpecError::file(path, "missing: LLM judges cannot score this claim's open-ended, token-association and robustness answers"));
        return judges;
    }
    let node = match yaml::read(path) {
        Ok(n) => n,
        Err(e) => {
            errors.push(e);
            return judges;
        }
    };
    let file = Checked { path, node: &node };
    let Node::Map { entries, .. } = &node else {
        errors.push(file.error(
            &FieldPath::root(),
            "expected a mapping of judge name to prompt template",
        ));
        return judges;
    };
    let keys: Vec<&str> = entries.iter().map(|(k, _, _)| k.as_str()).collect();
    for (key, _, value) in entries {
        let field = FieldPath::root().key(key);
        let official = judges::official_key(key);
        if official != key && keys.contains(&official) {
            warnings.push(file.error(
                &field,
                format!("legacy name; ignored because '{official}' is also present"),
            ));
            continue;
        }
        let text = match value {
            Node::Scalar {
                value: serde_json::Value::String(s),
                ..
            } => s.as_str(),
            _ => {
                errors.push(file.error(&field, "expected a string"));
                continue;
            }
        };
        if judges::is_verdict_key_entry(official) {
            let name = text.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                errors.push(file.error(&field, format!("'{text}' is not a JSON field name")));
            } else {
                judges
                    .verdict_keys
                    .insert(official.to_owned(), name.to_owned());
            }
            continue;
        }
        if !judges::TEMPLATE_KEYS.iter().any(|(k, _)| *k == official) {
            warnings.push(file.error(&field, "unknown judge name; its template is still checked"));
        }
        if let Some(t) = file.check_template(&field, text, errors) {
            judges.templates.insert(official.to_owned(), t);
        }
    }
    for set in [
        QuestionSet::OpenEnded,
        QuestionSet::TokenAssociation,
        QuestionSet::Robustness,
    ] {
        if sets.contains_key(&set) && !judges.templates.contains_key(set.name()) {
            warnings.push(file.error(
                &FieldPath::root(),
                format!(
                    "no '{}' judge template: LLM judges cannot score that eval",
                    set.name()
                ),
            ));
        }
    }
    judges
}

fn load_word_masks(path: &Path, errors: &mut SpecErrors) -> Option<WordMasks> {
    if !path.exists() {
        return None;
    }
    let (node, masks): (Node, WordMasks) = read_yaml(path, errors)?;
    let file = Checked { path, node: &node };
    let mut ok = true;
    for (i, pattern) in masks.patterns.iter().enumerate() {
        let field = FieldPath::root().key("patterns").index(i);
        if pattern.is_empty() {
            errors.push(file.error(&field, "empty pattern"));
            ok = false;
        } else if let Err(e) = fancy_regex::Regex::new(&format!("(?i){pattern}")) {
            errors.push(file.error(&field, format!("invalid regex: {e}")));
            ok = false;
        }
    }
    ok.then_some(masks)
}
