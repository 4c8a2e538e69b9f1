//! The accept loop of the watcher's unix sockets that hand each connection to a task of its own
//! (the admission, the start socket).

use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

/// Accepts every connection on `listener` until `token` is cancelled and hands each to `each`
/// (which spawns its task). A failed accept is logged under `what` and tried again shortly.
pub async fn accept_each(
    listener: &UnixListener,
    token: &CancellationToken,
    what: &str,
    mut each: impl FnMut(UnixStream),
) {
    loop {
        let accepted = tokio::select! {
            _ = token.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => each(stream),
            Err(e) => {
                tracing::warn!(error = %e, "{what}: accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}
