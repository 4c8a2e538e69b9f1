//! What a running container uses, as the engine measures it: its memory, counted as `docker
//! stats` counts it (the cgroup's usage less the page cache it may drop).

use futures::StreamExt;

impl crate::client::DockerClient {
    /// The memory `name` uses now, in bytes; `None` when it does not run or the engine does not
    /// measure it (no memory cgroup controller).
    pub async fn memory(&self, name: &str) -> Result<Option<u64>, crate::error::DockerError> {
        let what = "stats";
        let options = bollard::query_parameters::StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        self.bounded(name, what, async {
            let mut stats = self.docker.stats(name, Some(options));
            let Some(answer) = stats.next().await else {
                return Ok(None);
            };
            let answer = answer.map_err(|error| crate::error::DockerError::Request {
                container: name.to_owned(),
                what,
                error,
            })?;
            let Some(memory) = answer.memory_stats else {
                return Ok(None);
            };
            let cache = memory.stats.as_ref().and_then(|s| {
                s.get("inactive_file")
                    .or_else(|| s.get("total_inactive_file"))
                    .copied()
            });
            Ok(memory
                .usage
                .filter(|u| *u > 0)
                .map(|u| u.saturating_sub(cache.unwrap_or(0))))
        })
        .await
    }
}
