//! The load scenarios against the user API, as goose scenarios and transactions with weights.
//!
//! | scenario (`--scenarios` name) | weight | what one user does |
//! | --- | --- | --- |
//! | `browse` | 4 | list pages (3) and search (1) |
//! | `read` | 4 | reads users by id, from ids it listed once at start |
//! | `auth` | 2 | logs in once at start, then calls `/api/auth/me` with its token |
//! | `crud` | 1 | create, read, update, delete one user, leaving nothing behind |

use goose::prelude::*;
use serde_json::{Value, json};

/// Every scenario, with its default weight.
pub fn all() -> Result<Vec<Scenario>, GooseError> {
    Ok(vec![
        scenario!("browse")
            .set_weight(4)?
            .register_transaction(transaction!(list_page).set_name("list").set_weight(3)?)
            .register_transaction(transaction!(search).set_name("search").set_weight(1)?),
        scenario!("read")
            .set_weight(4)?
            .register_transaction(
                transaction!(collect_ids)
                    .set_name("collect ids")
                    .set_on_start(),
            )
            .register_transaction(transaction!(read_by_id).set_name("read")),
        scenario!("auth")
            .set_weight(2)?
            .register_transaction(transaction!(log_in).set_name("log in").set_on_start())
            .register_transaction(transaction!(me).set_name("me")),
        scenario!("crud")
            .set_weight(1)?
            .register_transaction(transaction!(crud_cycle).set_name("crud")),
    ])
}

/// The seed user every `auth` user logs in as.
const LOGIN: (&str, &str) = ("user@example.com", "user123");
/// The domain of the users `crud` makes and deletes (`.invalid` is reserved, RFC 2606), so
/// `read` can leave them out: they may be gone by the time it reads them.
const CRUD_DOMAIN: &str = "crud.loadgen.invalid";

/// What a user keeps between transactions.
#[derive(Clone)]
struct Ids(Vec<String>);
#[derive(Clone)]
struct Token(String);

async fn list_page(user: &mut GooseUser) -> TransactionResult {
    let page = rand::random_range(1..=3);
    user.get_named(
        &format!("/api/users?page={page}&limit=10"),
        "/api/users?page",
    )
    .await?;
    Ok(())
}

async fn search(user: &mut GooseUser) -> TransactionResult {
    let needle = ["user", "admin", "example", "test"][rand::random_range(0..4)];
    user.get_named(
        &format!("/api/users?search={needle}&limit=10"),
        "/api/users?search",
    )
    .await?;
    Ok(())
}

async fn collect_ids(user: &mut GooseUser) -> TransactionResult {
    let mut goose = user
        .get_named("/api/users?limit=100", "/api/users?limit=100")
        .await?;
    let ids = match goose.response {
        Ok(response) => match response.json::<Value>().await {
            Ok(page) => page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|u| !u["email"].as_str().unwrap_or("").ends_with(CRUD_DOMAIN))
                .filter_map(|u| u["id"].as_str().map(str::to_owned))
                .collect(),
            Err(error) => {
                return user.set_failure(
                    "the list is not JSON",
                    &mut goose.request,
                    None,
                    Some(&error.to_string()),
                );
            }
        },
        Err(_) => Vec::new(),
    };
    user.set_session_data(Ids(ids));
    Ok(())
}

async fn read_by_id(user: &mut GooseUser) -> TransactionResult {
    let id = match user.get_session_data::<Ids>() {
        Some(Ids(ids)) if !ids.is_empty() => ids[rand::random_range(0..ids.len())].clone(),
        // No ids yet (the listing failed): list again. Returning at once would spin the user
        // without ever yielding, and a run against a failing target would never end.
        _ => return collect_ids(user).await,
    };
    user.get_named(&format!("/api/users/{id}"), "/api/users/{id}")
        .await?;
    Ok(())
}

async fn log_in(user: &mut GooseUser) -> TransactionResult {
    let body = json!({"email": LOGIN.0, "password": LOGIN.1});
    let request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path("/api/auth/login")
        .name("/api/auth/login")
        .set_request_builder(
            user.get_request_builder(&GooseMethod::Post, "/api/auth/login")?
                .json(&body),
        )
        .build();
    let mut goose = user.request(request).await?;
    let token = match goose.response {
        Ok(response) => response
            .json::<Value>()
            .await
            .ok()
            .and_then(|b| b["token"].as_str().map(str::to_owned)),
        Err(_) => None,
    };
    match token {
        Some(token) => {
            user.set_session_data(Token(token));
            Ok(())
        }
        None => user.set_failure("login gave no token", &mut goose.request, None, None),
    }
}

async fn me(user: &mut GooseUser) -> TransactionResult {
    let Some(Token(token)) = user.get_session_data::<Token>() else {
        // No token (the login failed): log in again, rather than spin without a request.
        return log_in(user).await;
    };
    let token = token.clone();
    let builder = user
        .get_request_builder(&GooseMethod::Get, "/api/auth/me")?
        .bearer_auth(token);
    let request = GooseRequest::builder()
        .path("/api/auth/me")
        .name("/api/auth/me")
        .set_request_builder(builder)
        .build();
    user.request(request).await?;
    Ok(())
}

/// One user created, read, renamed and deleted; its email is random, so users and
/// generators never collide.
async fn crud_cycle(user: &mut GooseUser) -> TransactionResult {
    let email = format!("user-{:016x}@{CRUD_DOMAIN}", rand::random::<u64>());
    let body = json!({"email": email, "password": "load-pass", "name": "Load Test"});
    let builder = user
        .get_request_builder(&GooseMethod::Post, "/api/users")?
        .json(&body);
    let request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path("/api/users")
        .name("/api/users")
        .expect_status_code(201)
        .set_request_builder(builder)
        .build();
    let mut goose = user.request(request).await?;
    let id = match goose.response {
        Ok(response) => response
            .json::<Value>()
            .await
            .ok()
            .and_then(|u| u["id"].as_str().map(str::to_owned)),
        Err(_) => None,
    };
    let Some(id) = id else {
        return user.set_failure("create gave no id", &mut goose.request, None, None);
    };
    let path = format!("/api/users/{id}");
    user.get_named(&path, "/api/users/{id}").await?;
    let rename = user
        .get_request_builder(&GooseMethod::Put, &path)?
        .json(&json!({"name": "Load Test Renamed"}));
    let request = GooseRequest::builder()
        .method(GooseMethod::Put)
        .path(path.as_str())
        .name("/api/users/{id}")
        .set_request_builder(rename)
        .build();
    user.request(request).await?;
    let request = GooseRequest::builder()
        .method(GooseMethod::Delete)
        .path(path.as_str())
        .name("/api/users/{id}")
        .expect_status_code(204)
        .build();
    user.request(request).await?;
    Ok(())
}
