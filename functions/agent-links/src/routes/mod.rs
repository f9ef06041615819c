pub mod mint;
