//! `/media`: the Twilio Media Streams WebSocket. Each connection is one call: the socket's text
//! messages go to a [`TwilioMediaStream`], its `start` yields a leg that the call driver runs
//! with the shared engine, and a writer task sends what the leg queues (paced by the driver).
//!
//! Two doors before that: with `[media] token` set a stream must present a token (`?token=`,
//! checked before the upgrade: 401; or its `start` message's `customParameters.token`: the
//! socket is closed with the reason), and a line must be free ([`Admission`]: 503 with
//! `Retry-After` before the upgrade when every line is busy or the node is draining).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::WebState;
use super::media_access::{MediaTokens, StartToken, start_token};
use crate::call::{CallChannel, CallOptions, CallServices, spawn_call};
use crate::channel::twilio_media_stream::{SOCKET_OUTPUT_QUEUE, SocketOutput, TwilioMediaStream};
use crate::lifecycle::{CallPermit, RETRY_AFTER_SECS};

/// `?token=` of the WebSocket URL.
#[derive(Debug, Deserialize)]
pub struct MediaQuery {
    token: Option<String>,
}

/// What the socket still has to show before its call starts.
enum TokenCheck {
    /// No token needed, or the URL's was right.
    Passed,
    /// The `start` message must carry one of these.
    AtStart(MediaTokens),
}

/// Why a stream was closed before its call started (the close frame's reason).
const WRONG_START_TOKEN: &str = "media stream refused: customParameters.token missing or wrong";

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

pub async fn media(
    State(state): State<WebState>,
    Query(query): Query<MediaQuery>,
    connected_from: Option<Extension<ConnectInfo<SocketAddr>>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let source = connected_from.map(|Extension(ConnectInfo(address))| address);
    let tokens = &state.calls.engine.config.media.token;
    let check = match query.token {
        _ if tokens.is_empty() => TokenCheck::Passed,
        Some(token) if tokens.accepts(&token) => TokenCheck::Passed,
        Some(_) => {
            tracing::warn!(?source, "/media refused: wrong ?token=");
            return plain(
                StatusCode::UNAUTHORIZED,
                "media stream refused: the token is wrong",
            );
        }
        None => TokenCheck::AtStart(tokens.clone()),
    };
    let permit = match state.admission.try_admit() {
        Ok(permit) => permit,
        Err(refusal) => {
            tracing::info!(?source, %refusal, "/media call refused");
            let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, &refusal.to_string());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            return response;
        }
    };
    let calls = Arc::clone(&state.calls);
    upgrade.on_upgrade(move |socket| media_socket(socket, calls, permit, check, source))
}

async fn media_socket(
    socket: WebSocket,
    calls: Arc<CallServices>,
    permit: CallPermit,
    mut check: TokenCheck,
    source: Option<SocketAddr>,
) {
    let (mut sink, mut incoming) = socket.split();
    let (outbound, mut to_send) = mpsc::channel(SOCKET_OUTPUT_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(output) = to_send.recv().await {
            let sent = match output {
                SocketOutput::Text(text) => sink.send(Message::Text(text.into())).await,
                SocketOutput::Close => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
                SocketOutput::Refuse(reason) => {
                    let frame = CloseFrame {
                        code: close_code::POLICY,
                        reason: reason.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            };
            if sent.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut stream = TwilioMediaStream::new(outbound.clone());
    let mut driver = None;
    while let Some(message) = incoming.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(Message::Binary(_)) => {
                tracing::warn!(
                    "binary WebSocket message on /media ignored: media streams send JSON text"
                );
                continue;
            }
            Ok(Message::Close(_)) => break,
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Err(error) => {
                tracing::warn!(%error, "media stream socket failed");
                break;
            }
        };
        if let TokenCheck::AtStart(tokens) = &check {
            match start_token(text.as_str()) {
                StartToken::NotStart => continue,
                StartToken::Start(Some(token)) if tokens.accepts(&token) => {
                    check = TokenCheck::Passed;
                }
                StartToken::Start(_) => {
                    tracing::warn!(
                        ?source,
                        "/media refused: no right token in the start message"
                    );
                    let _ = outbound
                        .send(SocketOutput::Refuse(WRONG_START_TOKEN.to_string()))
                        .await;
                    break;
                }
            }
        }
        match stream.on_text(text.as_str()) {
            Ok(Some(started)) => {
                let options = CallOptions {
                    lang: started.lang,
                    channel: CallChannel::MediaStream,
                };
                driver = Some(spawn_call(Arc::clone(&calls), started.leg, options));
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "media stream message skipped"),
        }
    }
    stream.on_closed();
    if let Some(driver) = driver {
        let _ = driver.await;
    }
    drop(stream);
    drop(outbound);
    let _ = writer.await;
    drop(permit);
}
