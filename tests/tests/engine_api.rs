//! The API version the clients agree with the engine they find: its own (Docker 20.10 speaks
//! 1.41, Docker 26 1.45, Docker 28 1.51), Docker 29's minimum (1.44) met, and a clear refusal,
//! not a hang, of an engine older than supported.

use fpm_docker::ContainerState;
use fpm_docker::{ContainerRuntime, DockerClient, DockerError};
use fpm_tests::cut::CuttingProxy;
use fpm_tests::docker29::{Docker29, API};
use fpm_tests::{docker, require_docker, DOCKER_SOCKET};
use std::path::Path;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_client_speaks_the_engines_own_api_version() {
    require_docker();
    let engine = docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    let client = DockerClient::connect(Path::new(DOCKER_SOCKET), TIMEOUT)
        .await
        .unwrap();
    println!(
        "engine {} speaks API {engine}; agreed {}",
        docker(&["version", "--format", "{{.Server.Version}}"]),
        client.api_version()
    );
    assert_eq!(client.api_version(), engine);
    client.ping().await.unwrap();
    assert!(client.state("no-such-container.fpm").await.is_ok());
}

/// Docker 29 refuses every API version below 1.44. The clients agree on the engine's own (1.52
/// there) and are served, every request; one at Docker 20.10's 1.41 would be refused, as the
/// stand-in shows.
#[tokio::test]
async fn docker_29s_minimum_api_version_is_met() {
    let engine = Docker29::start();
    let client = DockerClient::connect(engine.path(), TIMEOUT).await.unwrap();
    assert_eq!(client.api_version(), format!("1.{}", API.0));
    assert_eq!(
        client.state("no-such-container.fpm").await.unwrap(),
        ContainerState::Missing
    );
    // bollard 0.21 sends its paths without a /v1.NN prefix (it joins an absolute path onto the
    // versioned base), which an engine serves at its own API version: never below its minimum.
    let seen = engine.requests();
    let lookup = seen
        .iter()
        .find(|r| r.contains("/containers/no-such-container.fpm/json"))
        .unwrap_or_else(|| panic!("{seen:?}"));
    assert!(lookup.ends_with("404 Not Found"), "{seen:?}");
    assert!(
        !seen.iter().any(|r| r.ends_with("400 Bad Request")),
        "a request refused as too old: {seen:?}"
    );

    // What a client at 1.41 meets there.
    use std::io::{Read as _, Write as _};
    let mut raw = std::os::unix::net::UnixStream::connect(engine.path()).unwrap();
    raw.write_all(
        b"GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    // Nothing more to ask: the stand-in closes once the request is answered.
    raw.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 400") && answer.contains("client version 1.41 is too old"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_engine_older_than_supported_is_refused_at_connect() {
    require_docker();
    let proxy = CuttingProxy::older_api(Path::new(DOCKER_SOCKET));
    let err = DockerClient::connect(proxy.path(), TIMEOUT)
        .await
        .map(|c| c.api_version())
        .unwrap_err();
    let DockerError::TooOld { api, .. } = &err else {
        panic!("not refused as too old: {err:?}")
    };
    assert!(api.starts_with("0."), "{api}");
    let text = err.to_string();
    assert!(
        text.contains(&proxy.path().display().to_string()) && text.contains("1.41"),
        "{text}"
    );
}

#[tokio::test]
async fn the_memory_of_a_running_container_is_measured_and_a_stopped_one_has_none() {
    require_docker();
    let mut containers = fpm_tests::Containers::default();
    let name = format!("{}.fpm", fpm_tests::unique("memory"));
    containers.run(&name, &["--init"], "exec sleep 300");
    let client = DockerClient::connect(Path::new(DOCKER_SOCKET), TIMEOUT)
        .await
        .unwrap();
    let memory = client.memory(&name).await.unwrap();
    // What `docker stats` itself shows. Docker 20.10's runc cannot read cgroup v1 memory on kernels
    // without the kmem files (6.x): its stats are empty there, "0B / 0B", and ours must be None
    // rather than a made-up figure. Docker 26 measures it on the same kernel.
    let shown = docker(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &name]);
    if shown.starts_with("0B") {
        assert_eq!(memory, None, "docker stats shows {shown}");
    } else {
        assert!(
            memory.is_some_and(|b| b > 0 && b < 1 << 30),
            "{memory:?}, docker stats shows {shown}"
        );
    }
    docker(&["stop", "-t", "1", &name]);
    assert_eq!(client.memory(&name).await.unwrap(), None);
}
