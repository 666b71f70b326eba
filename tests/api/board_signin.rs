//! A browser signs in to the board's page with its token once; the cookie
//! it gets opens `GET /board…` and nothing else, and a revoked token stops
//! working.

use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use tenure::auth::Role;

use crate::helpers::spawn_app;

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

#[tokio::test]
async fn a_board_member_signs_in_once_and_reads_the_page_in_a_browser() {
    let app = spawn_app().await;
    let board = app.bearer(Role::Board, "board-member").await;
    let token = board.trim_start_matches("Bearer ");
    // An empty store: every section says what to give, and the page is 200.
    let page = format!("{}/board?on=2018-09-30", app.address);
    let client = browser();

    // No token: a browser is sent to the form, coming back to the page;
    // anything else gets the JSON 401.
    let first = client.get(&page).header(ACCEPT, "text/html").send().await.unwrap();
    assert_eq!(first.status(), 303);
    let to = first.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(to, "/board/sign-in?next=/board%3Fon%3D2018-09-30");
    assert_eq!(client.get(&page).send().await.unwrap().status(), 401);
    let form = client.get(format!("{}{to}", app.address)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains("name=\"token\" type=\"password\""));

    // Signing in: a cookie for /board only, out of scripts' and other sites' reach.
    let next = "/board?on=2018-09-30";
    let signed = client
        .post(format!("{}/board/sign-in", app.address))
        .form(&[("token", token), ("next", next)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()[LOCATION], next);
    let cookie = signed.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for part in ["Path=/board", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();
    let read = client.get(&page).header(COOKIE, &pair).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert!(read.text().await.unwrap().contains("Workforce board paper"));

    // The cookie opens nothing outside the board's page.
    let report = format!(
        "{}/api/v1/reports/vacancies?organisation=x&on=2018-09-30&view=board",
        app.address
    );
    assert_eq!(
        client.get(&report).header(COOKIE, &pair).send().await.unwrap().status(),
        401
    );

    // Off-site `next` is ignored.
    let away = client
        .post(format!("{}/board/sign-in", app.address))
        .form(&[("token", token), ("next", "//evil.example/board")])
        .send()
        .await
        .unwrap();
    assert_eq!(away.headers()[LOCATION], "/board");

    // A recorder's token may not read the page; an unknown one is refused.
    let recorder = app.bearer(Role::Recorder, "hr-clerk").await;
    let refused = client
        .post(format!("{}/board/sign-in", app.address))
        .form(&[("token", recorder.trim_start_matches("Bearer ")), ("next", next)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    let unknown = client
        .post(format!("{}/board/sign-in", app.address))
        .form(&[("token", "tenure_nobody"), ("next", next)])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);

    // Revoked: within the token cache's lifetime the browser is sent back
    // to the form.
    let owner = crate::helpers::superuser_pool(&app.pool).await;
    sqlx::query("UPDATE access_tokens SET revoked_at = clock_timestamp() WHERE name = 'board-member'")
        .execute(&owner)
        .await
        .unwrap();
    let mut status = 200;
    for _ in 0..40 {
        let again = client
            .get(&page)
            .header(COOKIE, &pair)
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        status = again.status().as_u16();
        if status == 303 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, 303, "a revoked token's cookie still opens the page");
}
