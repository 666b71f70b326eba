//! A commit whose acknowledgement is lost: the connection fails after the
//! database received `COMMIT`. The client must get the receipt when the
//! commit landed, never a failure that invites a duplicating retry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tenure::event_store::{CommitOutcome, EventStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::bodies::Registration;
use crate::helpers::{fresh_database, TestApp};

/// A TCP proxy to the database that, once armed, forwards the next
/// `COMMIT` to the server and then drops the client's connection without
/// passing the server's answer on.
struct CommitCutter {
    address: String,
    armed: Arc<AtomicBool>,
}

impl CommitCutter {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let armed = Arc::new(AtomicBool::new(false));
        let armed_for_proxy = armed.clone();
        tokio::spawn(async move {
            loop {
                let (client, _) = listener.accept().await.unwrap();
                let server = TcpStream::connect(&upstream).await.unwrap();
                tokio::spawn(pipe(client, server, armed_for_proxy.clone()));
            }
        });
        Self { address, armed }
    }
}

async fn pipe(client: TcpStream, server: TcpStream, armed: Arc<AtomicBool>) {
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let cut_answers = cut.clone();
    let answers = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match server_in.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            // The answer to the cut COMMIT (and anything after) never arrives.
            if cut_answers.load(Ordering::SeqCst) || client_out.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match client_in.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let commit = buf[..n].windows(7).any(|w| w == b"COMMIT\0");
        if commit && armed.swap(false, Ordering::SeqCst) {
            cut.store(true, Ordering::SeqCst);
            let _ = server_out.write_all(&buf[..n]).await;
            break;
        }
        if server_out.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    // Both halves of the client's socket close once the answer task ends.
    let _ = answers.await;
}

#[tokio::test]
async fn a_commit_whose_acknowledgement_is_lost_is_answered_with_its_receipt_once() {
    let (direct, url) = fresh_database().await;
    let upstream = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a postgres://user@host:port/db URL")
        .to_string();
    let cutter = CommitCutter::start(upstream.clone()).await;
    let proxied = tenure::db::connect(&url.replacen(&upstream, &cutter.address, 1), 4)
        .await
        .unwrap();
    let state = tenure::app_state(proxied.clone(), &tenure::Settings::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, tenure::http::app(state)).await });
    let app = TestApp {
        address,
        pool: direct.clone(),
        client: crate::helpers::admin_client(&direct).await,
    };

    cutter.armed.store(true, Ordering::SeqCst);
    let reply = app
        .send(&Registration::new("L-1", "Northshire", "social_worker", "2010-01-04"))
        .await;
    assert!(
        !cutter.armed.load(Ordering::SeqCst),
        "the registration's COMMIT was cut"
    );
    assert_eq!(reply.status, 201, "the commit landed, so its receipt: {}", reply.body);
    assert_eq!(reply.body["version"], 1);
    let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(&direct)
        .await
        .unwrap();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn the_outcome_of_a_transaction_is_read_from_its_id() {
    let (pool, _) = fresh_database().await;
    let store = EventStore::new(pool.clone());
    let txid = |sql: &'static str| sqlx::query_as::<_, (i64,)>(sql);

    let mut committed = pool.begin().await.unwrap();
    let (committed_id,) = txid("SELECT txid_current()").fetch_one(&mut *committed).await.unwrap();
    committed.commit().await.unwrap();

    let mut aborted = pool.begin().await.unwrap();
    let (aborted_id,) = txid("SELECT txid_current()").fetch_one(&mut *aborted).await.unwrap();
    aborted.rollback().await.unwrap();

    let mut running = pool.begin().await.unwrap();
    let (running_id,) = txid("SELECT txid_current()").fetch_one(&mut *running).await.unwrap();

    assert_eq!(
        store.commit_outcome(committed_id).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(store.commit_outcome(aborted_id).await.unwrap(), CommitOutcome::Aborted);
    assert_eq!(store.commit_outcome(running_id).await.unwrap(), CommitOutcome::Unknown);
    running.rollback().await.unwrap();
}
