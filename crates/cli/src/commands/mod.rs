pub mod claims;
pub mod model_args;
pub mod prompts;
pub mod run;
pub mod sample;
pub mod score;
pub mod train;
pub mod version;
