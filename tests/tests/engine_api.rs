//! The API version the clients agree with the engine they find: its own (Docker 20.10 speaks
//! 1.41, Docker 26 1.45), and a clear refusal, not a hang, of an engine older than supported.

use fpm_shared::docker::{ContainerRuntime, DockerClient, DockerError};
use fpm_tests::cut::CuttingProxy;
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
    assert!(api.starts_with("1.2"), "{api}");
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
