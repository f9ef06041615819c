pub mod deliveries;
pub mod replay;
pub mod retry;
pub mod test;
