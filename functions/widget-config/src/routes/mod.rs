pub mod config;
pub mod secret;
