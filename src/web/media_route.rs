//! `/media`: the Twilio Media Streams WebSocket. Each connection is one call: the socket's text
//! messages go to a [`TwilioMediaStream`], its `start` yields a leg that the call driver runs
//! with the shared engine, and a writer task sends what the leg queues (paced by the driver).

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::call::{CallChannel, CallOptions, CallServices, spawn_call};
use crate::channel::twilio_media_stream::{SOCKET_OUTPUT_QUEUE, SocketOutput, TwilioMediaStream};

pub async fn media(upgrade: WebSocketUpgrade, State(calls): State<Arc<CallServices>>) -> Response {
    upgrade.on_upgrade(move |socket| media_socket(socket, calls))
}

async fn media_socket(socket: WebSocket, calls: Arc<CallServices>) {
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
            };
            if sent.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut stream = TwilioMediaStream::new(outbound);
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
    let _ = writer.await;
}
