pub mod claims;
pub mod run;
pub mod version;
