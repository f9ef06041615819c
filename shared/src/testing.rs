//! The unit tests' one set of fixtures: a fresh in-memory store, a manual
//! clock, and a caller of a new account.

use crate::api::accounts;
use crate::api::auth::{Actor, Caller};
use crate::base::ids::{AccountId, SiteKey, TokenId};
use crate::base::time::{ManualClock, Timestamp};
use crate::storage::store::MemoryStore;

/// When every test's clock starts unless it says otherwise: 2026-01-01.
pub const T0: Timestamp = Timestamp::from_millis(1_767_225_600_000);

/// A store, a clock and an API caller, as a request would have them.
pub struct World {
    /// The store, empty at first.
    pub kv: MemoryStore,
    /// The clock, at [`T0`] unless made with [`World::at`].
    pub clock: ManualClock,
    /// An API-token caller of an account that exists only as an id.
    pub caller: Caller,
}

impl World {
    /// A world at [`T0`].
    pub fn new() -> World {
        World::at(T0)
    }

    /// A world whose clock starts at `now`.
    pub fn at(now: Timestamp) -> World {
        World {
            kv: MemoryStore::new(),
            clock: ManualClock::at(now),
            caller: Caller {
                account: AccountId::generate(),
                actor: Actor::Token(TokenId::generate()),
            },
        }
    }

    /// A world whose account was really created (so it has a site key, a
    /// token and an audit entry); the caller is `actor` of that account.
    pub fn with_account(actor: Actor) -> (World, SiteKey) {
        let world = World::new();
        let created = accounts::create(&world.kv, &world.clock, "Acme").unwrap();
        let world = World {
            caller: Caller {
                account: created.account.id.clone(),
                actor,
            },
            ..world
        };
        (world, created.site_key)
    }

    /// The store, clock and account id, for tests that need no caller.
    pub fn parts(self) -> (MemoryStore, ManualClock, AccountId) {
        (self.kv, self.clock, self.caller.account)
    }
}
