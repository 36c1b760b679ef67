//! Signing in: one password (`CONSOLE_PASSWORD`), kept only as an Argon2 hash; sessions
//! behind an `HttpOnly`, `SameSite=Strict` cookie (`Secure` in production); a CSRF token per
//! session that every form carries; and a limit on sign-in attempts per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::error::PageError;
use crate::state::ConsoleState;

/// The session cookie's name.
pub const COOKIE: &str = "shopwire_console";

/// Sign-in attempts one address may make at once, then one more every
/// [`ATTEMPT_EVERY`].
const ATTEMPT_BURST: u32 = 5;
const ATTEMPT_EVERY: Duration = Duration::from_secs(6);

/// A signed-in browser: what handlers get from [`require_session`].
#[derive(Debug, Clone)]
pub struct Session {
    /// The token every form of this session must send back as `csrf`.
    pub csrf: String,
    expires: Instant,
}

impl Session {
    /// Refuse a form whose `csrf` field is not this session's token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if bool::from(self.csrf.as_bytes().ct_eq(sent.as_bytes())) {
            Ok(())
        } else {
            Err(PageError::Forbidden(
                "this form is stale or did not come from the console: reload the page and try again"
                    .into(),
            ))
        }
    }
}

/// Why a sign-in failed.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInError {
    /// Not the password.
    Wrong,
    /// Too many attempts from this address; try again later.
    TooMany,
}

/// The password check, the sessions, and the sign-in limiter.
pub struct Auth {
    hash: String,
    sessions: Mutex<HashMap<String, Session>>,
    attempts: DefaultKeyedRateLimiter<IpAddr>,
    /// One Argon2 verification at a time (each takes ~19 MiB and tens of milliseconds).
    verifying: tokio::sync::Semaphore,
    ttl: Duration,
    secure: bool,
}

impl Auth {
    /// Hash `password` (the plaintext is not kept) for sessions lasting `ttl`; `secure`
    /// marks the cookie `Secure` (production, behind TLS).
    pub fn new(password: &SecretString, ttl: Duration, secure: bool) -> anyhow::Result<Auth> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("failed to hash CONSOLE_PASSWORD: {e}"))?
            .to_string();
        let burst = NonZeroU32::new(ATTEMPT_BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(ATTEMPT_EVERY)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Ok(Auth {
            hash,
            sessions: Mutex::new(HashMap::new()),
            attempts: RateLimiter::keyed(quota),
            verifying: tokio::sync::Semaphore::new(1),
            ttl,
            secure,
        })
    }

    /// Check `password` for a client at `from`; on success, a new session's cookie value.
    pub async fn sign_in(&self, from: IpAddr, password: String) -> Result<String, SignInError> {
        if self.attempts.check_key(&from).is_err() {
            return Err(SignInError::TooMany);
        }
        let Ok(_one_at_a_time) = self.verifying.acquire().await else {
            return Err(SignInError::TooMany);
        };
        let hash = self.hash.clone();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !matches {
            return Err(SignInError::Wrong);
        }
        let token = random_token();
        let session = Session {
            csrf: random_token(),
            expires: Instant::now() + self.ttl,
        };
        let mut sessions = self.lock();
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(token.clone(), session);
        Ok(token)
    }

    /// The live session behind a cookie value.
    pub fn session(&self, token: &str) -> Option<Session> {
        let mut sessions = self.lock();
        match sessions.get(token) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                sessions.remove(token);
                None
            }
            None => None,
        }
    }

    /// End the session behind a cookie value.
    pub fn sign_out(&self, token: &str) {
        self.lock().remove(token);
    }

    /// The session cookie for `token`.
    pub fn cookie(&self, token: String) -> Cookie<'static> {
        Cookie::build((COOKIE, token))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .path("/")
            .build()
    }

    /// The cookie that removes the session cookie.
    pub fn removal(&self) -> Cookie<'static> {
        Cookie::build((COOKIE, ""))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .path("/")
            .build()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Middleware for every page but sign-in and the assets: a request without a live session
/// is sent to `/signin` (pages) or refused with 401 (forms, the event stream).
pub async fn require_session(
    State(state): State<ConsoleState>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    let session = jar
        .get(COOKIE)
        .and_then(|cookie| state.auth.session(cookie.value()));
    match session {
        Some(session) => {
            request.extensions_mut().insert(session);
            next.run(request).await
        }
        None if request.method() == Method::GET
            && !request
                .headers()
                .get(header::ACCEPT)
                .is_some_and(|a| a.as_bytes().starts_with(b"text/event-stream")) =>
        {
            let path = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!("/signin?next={}", crate::layout::encode(path))).into_response()
        }
        None => PageError::Unauthorized.into_response(),
    }
}

/// Where to go after signing in: only a path on this console (never another site).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(
            &SecretString::from("correct horse"),
            Duration::from_secs(60),
            false,
        )
        .expect("hash")
    }

    #[tokio::test]
    async fn the_right_password_opens_a_session_and_a_wrong_one_does_not() {
        let auth = auth();
        let ip = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(
            auth.sign_in(ip, "wrong horse".into()).await,
            Err(SignInError::Wrong)
        );
        let token = auth
            .sign_in(ip, "correct horse".into())
            .await
            .expect("signed in");
        assert!(auth.session(&token).is_some());
        auth.sign_out(&token);
        assert!(auth.session(&token).is_none());
    }

    #[tokio::test]
    async fn an_address_that_keeps_guessing_is_refused_before_the_password_is_checked() {
        let auth = auth();
        let ip = IpAddr::from([10, 0, 0, 7]);
        for _ in 0..ATTEMPT_BURST {
            assert_eq!(
                auth.sign_in(ip, "guess".into()).await,
                Err(SignInError::Wrong)
            );
        }
        assert_eq!(
            auth.sign_in(ip, "correct horse".into()).await,
            Err(SignInError::TooMany)
        );
        // Another address is not held back by the first one's guesses.
        let other = IpAddr::from([10, 0, 0, 8]);
        assert!(auth.sign_in(other, "correct horse".into()).await.is_ok());
    }

    #[test]
    fn in_production_the_cookie_is_also_secure() {
        let production = Auth::new(
            &SecretString::from("correct horse"),
            Duration::from_secs(60),
            true,
        )
        .expect("hash");
        let cookie = production.cookie("token".into()).to_string();
        assert!(cookie.contains("Secure"), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(!auth().cookie("token".into()).to_string().contains("Secure"));
    }

    #[test]
    fn after_sign_in_only_a_local_path_is_followed() {
        assert_eq!(safe_next(Some("/live/anna")), "/live/anna");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn a_form_without_the_session_token_is_refused() {
        let session = Session {
            csrf: "abc".into(),
            expires: Instant::now(),
        };
        assert!(session.check_csrf("abc").is_ok());
        assert!(session.check_csrf("abd").is_err());
        assert!(session.check_csrf("").is_err());
    }
}
