pub mod delete_secret;
pub mod get_config;
pub mod get_secret;
pub mod put_config;
pub mod put_secret;
