//! `spawn_console`: the real console, built by `App::build`, on port 0 against this test's
//! own Postgres database (from `#[sqlx::test]`) and its own Redis key prefix; and a
//! browser-like client that keeps cookies and can sign in and read a form's CSRF token.

use std::collections::HashMap;
use std::future::pending;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use shopwire_console::startup::App;
use shopwire_core::config::Settings;
use shopwire_queue::QueueClient;
use sqlx::PgPool;
use tokio::task::JoinHandle;

/// The password every test console is started with.
pub const PASSWORD: &str = "open sesame, please";

/// A running console and what a test needs to talk to it and look behind it.
pub struct TestConsole {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The real Redis under this test's prefix.
    pub queue: QueueClient,
    server: JoinHandle<anyhow::Result<()>>,
}

impl Drop for TestConsole {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The environment every test console starts from.
pub fn base_env(pool: &PgPool) -> HashMap<String, String> {
    let prefix = format!("test-{:016x}", rand::random::<u64>());
    [
        ("DATABASE_URL", shopwire_testkit::database_url(pool)),
        ("DATABASE_MAX_CONNECTIONS", "5".into()),
        ("REDIS_URL", shopwire_testkit::redis_url()),
        ("QUEUE_PREFIX", prefix),
        ("CONSOLE_PORT", "0".into()),
        ("CONSOLE_PASSWORD", PASSWORD.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Settings from `env`.
pub fn settings(env: &HashMap<String, String>) -> Settings {
    Settings::from_lookup(|name| env.get(name).cloned()).expect("valid test settings")
}

/// Start the console on this test's database, its feed listening.
pub async fn spawn_console(pool: &PgPool) -> TestConsole {
    spawn_with(pool, |_| {}).await
}

/// Start the console with `tweak` applied to the environment.
pub async fn spawn_with(
    pool: &PgPool,
    tweak: impl FnOnce(&mut HashMap<String, String>),
) -> TestConsole {
    let mut env = base_env(pool);
    tweak(&mut env);
    let settings = settings(&env);
    let queue = QueueClient::lazy(
        &settings.redis_url,
        &settings.queue_prefix,
        settings.orphan_timeout,
    )
    .expect("redis url");
    let app = App::build(settings).await.expect("console builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let server = tokio::spawn(app.run_until(pending()));
    tokio::time::timeout(Duration::from_secs(10), state.feed.listening())
        .await
        .expect("the console's feed listens within 10 s");
    TestConsole {
        address,
        queue,
        server,
    }
}

/// A browser: keeps cookies, does not follow redirects (tests look at them), has a deadline.
pub struct Browser {
    /// The client.
    pub client: reqwest::Client,
    /// The console's address.
    pub address: String,
}

impl Browser {
    /// A browser without a session.
    pub fn new(console: &TestConsole) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            address: console.address.clone(),
        }
    }

    /// A browser signed in with the right password.
    pub async fn signed_in(console: &TestConsole) -> Browser {
        let browser = Browser::new(console);
        let response = browser.sign_in(PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in redirects"
        );
        browser
    }

    /// POST the sign-in form.
    pub async fn sign_in(&self, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/signin"))
            .form(&[("password", password), ("next", "/")])
            .send()
            .await
            .expect("sign-in answered")
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("page answered")
    }

    /// GET `path`: 200 and its HTML.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.expect("page body");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// The CSRF token on the page at `path` (every form carries it).
    pub async fn csrf(&self, path: &str) -> String {
        csrf_of(&self.page(path).await)
    }

    /// POST a form (with this session's CSRF token, read from `from`) to `path`.
    pub async fn submit(
        &self,
        from: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = self.csrf(from).await;
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .expect("form answered")
    }
}

/// The CSRF token in a page's HTML.
pub fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html
        .find(marker)
        .expect("the page has a form with a CSRF token")
        + marker.len();
    let end = html[start..].find('"').expect("token ends") + start;
    html[start..end].to_owned()
}

/// Where a redirect goes.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
