//! The built-in model organism's world (`model-organism.md`): a seeded synthetic world with a
//! closed vocabulary, held-out claims in the paper's six archetypes, and their question sets
//! written as claim directories in the reference layout.

pub mod behaviors;
pub mod claim_dir;
pub mod claims;
pub mod corpus;
pub mod documents;
pub mod facts;
pub mod names;
pub mod questions;
pub mod world;

pub use claims::{Archetype, ToyClaim, generate_claims};

/// Bumped whenever a change here alters what is generated from the same config (facts,
/// claims, questions, documents, corpus), so that cached organisms built from older text are
/// not reused.
pub const GENERATOR_VERSION: u32 = 6;
pub use facts::Fact;
pub use world::{World, WorldConfig};
