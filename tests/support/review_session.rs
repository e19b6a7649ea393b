//! Logging in to the review UI over plain HTTP, as a browser does (the login form's cookie
//! and CSRF token, then the password): the session cookie to send with review requests.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

/// The value of cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let pair = v.to_str().ok()?.split(';').next()?;
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_string())
    })
}

/// A client that does not follow redirects (a redirect to the login page is an answer).
pub fn review_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in as `name` on the server at `port`: `hotline_review=...`, for a `Cookie` header.
pub async fn review_login(port: u16, name: &str, password: &str) -> String {
    let client = review_client();
    let url = format!("http://127.0.0.1:{port}/review/login");
    let form = client.get(&url).send().await.unwrap();
    let login_cookie = set_cookie(&form, "hotline_review_login").expect("the login form's cookie");
    let page = form.text().await.unwrap();
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf input") + 19;
    let csrf = &page[at..at + 64];
    let answer = client
        .post(&url)
        .header("cookie", format!("hotline_review_login={login_cookie}"))
        .form(&[("name", name), ("password", password), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "login as {name}");
    let session = set_cookie(&answer, "hotline_review").expect("a session cookie");
    format!("hotline_review={session}")
}
