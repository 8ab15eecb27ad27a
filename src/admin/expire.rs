//! `POST /__admin/tokens/expire`: what a presented string is (a token of this server, an authorization code, a
//! code pair's device or user code) and expiring it in the session.

use axum::http::StatusCode;

use super::AdminError;
use crate::context::{AppState, Session};
use crate::lwa::tokens::TokenKind;
use crate::store::CodePairDecision;

/// What was expired, as the answer's `expired` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// An `Atza|` access token.
    AccessToken,
    /// An `Atzr|` refresh token.
    RefreshToken,
    /// An `Atc|` app token.
    AppToken,
    /// An authorization code.
    AuthorizationCode,
    /// A code pair (by its device or user code).
    CodePair,
}

impl Expired {
    /// The answer's `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Expired::AccessToken => "access_token",
            Expired::RefreshToken => "refresh_token",
            Expired::AppToken => "app_token",
            Expired::AuthorizationCode => "authorization_code",
            Expired::CodePair => "code_pair",
        }
    }
}

/// Expires `t`: a token (by its `Atza|`, `Atzr|` or `Atc|` prefix), else an authorization code, else a code
/// pair by its device code, else by its user code.
///
/// # Errors
/// 400 for a token this server did not sign; 404 for a token of another session (or of this one before a
/// reset), or when nothing matches; 409 for a code pair already used.
pub async fn expire(state: &AppState, session: &Session, t: &str) -> Result<Expired, AdminError> {
    if t.starts_with("Atza|") || t.starts_with("Atzr|") || t.starts_with("Atc|") {
        return expire_token(state, session, t).await;
    }
    if session.store.expire_auth_code(t).await {
        return Ok(Expired::AuthorizationCode);
    }
    expire_code_pair(session, t).await
}

/// Forces a token of this session to expire.
async fn expire_token(state: &AppState, session: &Session, t: &str) -> Result<Expired, AdminError> {
    let c = state.tokens.verify(t).map_err(|_| {
        AdminError(StatusCode::BAD_REQUEST, "not a token issued by this server (bad signature or format)".into())
    })?;
    // Forced expiry is session state: expiring another session's token here would change nothing.
    if c.sid != crate::lwa::token_sid(session) {
        return Err(AdminError(StatusCode::NOT_FOUND, foreign_token(session.id.as_str(), &c.sid)));
    }
    session.store.expire_token(&c.jti).await;
    Ok(match c.knd {
        TokenKind::Access => Expired::AccessToken,
        TokenKind::Refresh => Expired::RefreshToken,
        TokenKind::App => Expired::AppToken,
    })
}

/// Why a token whose `sid` claim is not session `session`'s cannot be expired there: it is from before a reset
/// of this session (`<name>~<epoch>`), or from another session.
fn foreign_token(session: &str, sid: &str) -> String {
    let (name, _) = sid.split_once('~').unwrap_or((sid, ""));
    if name == session {
        "the token was issued before this session was reset".to_owned()
    } else {
        format!("the token was issued in session {name:?}, not this one")
    }
}

/// Expires the code pair whose device code, or else user code, is `t`.
async fn expire_code_pair(session: &Session, t: &str) -> Result<Expired, AdminError> {
    let user_code = match session.store.code_pair_by_device_code(t).await {
        Some(p) => Some(p.user_code),
        None => session.store.code_pair(t).await.map(|p| p.user_code),
    };
    let uc =
        user_code.ok_or_else(|| AdminError(StatusCode::NOT_FOUND, "no token, code or code pair matches".into()))?;
    match session.store.decide_code_pair(&uc, CodePairDecision::Expire).await {
        Ok(_) => Ok(Expired::CodePair),
        Err(_) => Err(AdminError(StatusCode::CONFLICT, "the code pair was already used".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_token_names_its_session_or_the_reset() {
        assert_eq!(foreign_token("t1", "t1~2"), "the token was issued before this session was reset");
        assert_eq!(foreign_token("t1", "t2"), "the token was issued in session \"t2\", not this one");
        assert_eq!(foreign_token("t1", "t2~1"), "the token was issued in session \"t2\", not this one");
    }
}
