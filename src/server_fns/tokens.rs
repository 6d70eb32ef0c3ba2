//! The settings page's token manager, over the same service as `/api/v1/tokens`.
//! A new token's secret is kept in the session until the page shows it once, so the
//! flow works the same with and without JavaScript (a plain form post redirects back).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::models::{ApiToken, AppError, CreatedToken};
#[cfg(feature = "ssr")]
use crate::{error::Error, models::NewTokenRequest, server_fns::ctx::Ctx, services::tokens};

#[cfg(feature = "ssr")]
const NEW_TOKEN_KEY: &str = "new_token";

/// What one page render took from the session's one-time secret. A render may load the
/// token list more than once (a no-JS form post's redirect can re-key the resource on the
/// server); every load in that render must see the same secret, and the next render none.
#[derive(Clone, Default)]
pub struct TokenFlash(#[allow(dead_code)] std::sync::Arc<std::sync::Mutex<Option<Option<CreatedToken>>>>);

/// The token list, and a just-created token's secret (shown once: reading it clears it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenManager {
    pub tokens: Vec<ApiToken>,
    pub created: Option<CreatedToken>,
}

#[server(prefix = "/fn", endpoint = "my_tokens")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn my_tokens() -> Result<TokenManager, AppError> {
    let cx = Ctx::get()?;
    let render = use_context::<TokenFlash>();
    let user = cx.signed_in().await?;
    let already = render.as_ref().and_then(|r| r.0.lock().ok().and_then(|taken| taken.clone()));
    let created = match already {
        Some(taken) => taken,
        None => {
            let taken = cx.call(cx.session()?.remove::<CreatedToken>(NEW_TOKEN_KEY)).await?;
            if let Some(Ok(mut slot)) = render.as_ref().map(|r| r.0.lock()) {
                *slot = Some(taken.clone());
            }
            taken
        }
    };
    let tokens = cx.call(tokens::list(&cx.state.db, &user)).await?;
    Ok(TokenManager { tokens, created })
}

/// Creates a token; `read`/`write` are checkbox values, `expires_in_days` empty for never.
#[server(prefix = "/fn", endpoint = "create_token")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn create_token(
    name: String,
    read: Option<String>,
    write: Option<String>,
    expires_in_days: Option<String>,
) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    let mut scopes = Vec::new();
    if read.is_some() {
        scopes.push("read");
    }
    if write.is_some() {
        scopes.push("write");
    }
    let days = match expires_in_days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(d.parse::<i64>().map_err(|_| {
            cx.fail(Error::field("expires_in_days", "Expiry must be a number of days between 1 and 1825."))
        })?),
    };
    let req = cx.check(NewTokenRequest::parse(&name, &scopes, days))?;
    let created = cx.call(tokens::create_personal(&cx.state.db, &user, req)).await?;
    cx.call(cx.session()?.insert(NEW_TOKEN_KEY, created)).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "revoke_token")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(tokens::revoke(&cx.state.db, &user, id)).await
}
