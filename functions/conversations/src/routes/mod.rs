pub mod assign;
pub mod close;
pub mod feed;
pub mod get;
pub mod list_messages;
pub mod post_message;
