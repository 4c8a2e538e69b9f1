//! The admission's metrics, when a budget of awake sites is set: the budget, starts waiting for
//! room, how long they waited, and those that gave up (answered 503). Stops made to make room are
//! counted with the other stops (`stops_total{cause="evicted"}`).

use super::SiteLabel;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// Buckets of the wait for room, in seconds: up to the longest allowed wait (25 s).
pub const WAIT_BUCKETS: [f64; 10] = [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0];

/// The admission's metrics.
#[derive(Debug)]
pub struct BudgetMetrics {
    max_awake: Gauge,
    waiting: Gauge,
    wait: Histogram,
    gave_up: Family<SiteLabel, Counter>,
}

impl BudgetMetrics {
    /// Every metric at zero, registered in `registry`.
    pub fn register(registry: &mut Registry) -> BudgetMetrics {
        let m = BudgetMetrics {
            max_awake: Gauge::default(),
            waiting: Gauge::default(),
            wait: Histogram::new(WAIT_BUCKETS),
            gave_up: Family::default(),
        };
        registry.register(
            "budget_max_awake",
            "The budget of awake sites (0: none set)",
            m.max_awake.clone(),
        );
        registry.register(
            "admission_waiting",
            "Starts waiting for room now",
            m.waiting.clone(),
        );
        registry.register_with_unit(
            "admission_wait",
            "How long each start let in waited for room and its turn",
            Unit::Seconds,
            m.wait.clone(),
        );
        registry.register(
            "admission_gave_up",
            "Starts that found no room within the wait: their held requests were answered 503",
            m.gave_up.clone(),
        );
        m
    }

    /// The budget set.
    pub fn set_max_awake(&self, n: usize) {
        self.max_awake.set(n as i64);
    }

    /// Starts waiting now.
    pub fn set_waiting(&self, n: usize) {
        self.waiting.set(n as i64);
    }

    /// A start was let in after `waited`.
    pub fn admitted(&self, waited: Duration) {
        self.wait.observe(waited.as_secs_f64());
    }

    /// A start of `site` gave up waiting.
    pub fn gave_up(&self, site: &fpm_shared::Site) {
        self.gave_up
            .get_or_create(&SiteLabel {
                site: site.to_string(),
            })
            .inc();
    }

    /// Drops the series of `site` (its conf is gone).
    pub fn forget(&self, site: &fpm_shared::Site) {
        self.gave_up.remove(&SiteLabel {
            site: site.to_string(),
        });
    }
}
