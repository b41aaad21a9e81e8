//! Building a [`ClaimContext`] from a loaded claim spec.

use neglect_spec::ClaimSpec;

use crate::annotate::ClaimContext;
use crate::claim_sentences::ClaimMatcher;
use crate::word_mask::WordMasker;

/// The probability the `low_probability` conditions state unless told otherwise.
pub const DEFAULT_LOW_PROBABILITY_PERCENT: u32 = 5;

impl ClaimContext {
    /// Everything the annotators need from `spec`; errors name the file and field.
    pub fn from_spec(spec: &ClaimSpec) -> Result<ClaimContext, String> {
        let matcher = ClaimMatcher::new(&spec.claim, &spec.universe.subclaims, &[])
            .map_err(|e| format!("{}: {e}", spec.dir.display()))?;
        let word_masker = match &spec.word_masks {
            Some(m) => Some(
                WordMasker::new(&m.patterns)
                    .map_err(|e| format!("{}: {e}", spec.dir.join("word_masks.yaml").display()))?,
            ),
            None => None,
        };
        Ok(ClaimContext {
            slug: spec.slug.clone(),
            claim: spec.claim.clone(),
            subclaims: spec.universe.subclaims.clone(),
            matcher,
            correction: spec.correction.clone(),
            word_masker,
            low_probability_percent: DEFAULT_LOW_PROBABILITY_PERCENT,
        })
    }
}
