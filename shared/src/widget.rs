//! The widget on the business's site: how it looks and when it shows.
//!
//! - [`config`]: colors, texts and position.
//! - [`rules`]: action rules and their conditions (agents online or
//!   available, opening hours, time on page, visits).
//! - [`visibility`]: the decision (overrides over rules) and the overrides.
//! - [`identity`]: the identify secret and what a page may say about its
//!   visitor.

pub mod config;
pub mod identity;
pub mod rules;
pub mod visibility;
