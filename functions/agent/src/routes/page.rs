//! `GET /agent/conversations/{id}` → the chat page, for a session that a
//! link opened this conversation in; otherwise a page saying to open a link
//! (401, cookie cleared) or that there is no such conversation (404).

use crate::html;
use crate::session;
use edgechat::agent_sessions;
use edgechat::error::Error;
use edgechat::spin_http::Ctx;
use spin_sdk::http::Response;

pub fn handle(ctx: &Ctx) -> Result<Response, Error> {
    let origin = session::origin(ctx)?;
    let active = match session::open(ctx, &origin) {
        Ok(active) => active,
        Err(Error::Unauthorized(_)) => {
            let mut page = html::notice(
                401,
                "You are not signed in",
                "Your session has ended, or this browser never opened an agent link.",
                "Open the agent link you were sent, or ask for a new one.",
            );
            page.set_header("set-cookie", agent_sessions::clear_cookie(&origin));
            return Ok(page);
        }
        Err(e) => return Err(e),
    };
    match active.conversation(ctx.store()?, ctx.param("id")) {
        Ok(id) => Ok(html::page(id.as_str(), &active.session.csrf)),
        Err(Error::NotFound(_)) => Ok(html::notice(
            404,
            "No such conversation",
            "This conversation does not exist, or no agent link opened it in this browser.",
            "Open the agent link for the conversation you want.",
        )),
        Err(e) => Err(e),
    }
}
