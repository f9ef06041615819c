//! `POST /agent/logout` → 204, the session deleted and its cookie cleared
//! (CSRF-checked like every change; audited).

use crate::session::{self, Kind};
use edgechat::agent_sessions;
use edgechat::audit;
use edgechat::error::Error;
use edgechat::spin_http::Ctx;
use edgechat::time::SystemClock;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    session::with_session(ctx, Kind::Change, |active, origin| {
        let kv = ctx.store()?;
        active.end(kv)?;
        let caller = active.caller();
        audit::record(
            kv,
            &SystemClock,
            &caller.account,
            &caller.actor,
            audit::Action::AgentLoggedOut,
            &format!("agent:{}", active.session.agent),
        )?;
        Ok(Response::builder()
            .status(204)
            .header("set-cookie", agent_sessions::clear_cookie(origin))
            .build())
    })
}
