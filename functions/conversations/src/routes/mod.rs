pub mod assign;
pub mod close;
pub mod feed;
pub mod get;
pub mod messages;
pub mod reply;
