//! The admission of starts when a budget of awake sites is set (a reload may set, change or
//! lift it while starts wait): fpm@'s `start-container` asks
//! here before it starts a container; starts are let in in arrival order, a few at a time, and
//! when the budget is full the awake site quiet longest is stopped through its unit to make room.
//!
//! One line per connection: `start SITE` (answered `queued` at once, then `go` once let in; the
//! connection is then held while the container starts, its end ending the start) or `status`
//! (answered with one JSON line). The socket is root's alone (`fpm-watcher-admission.socket`).
//! Connections are accepted and acknowledged apart from the decisions, so that a start learns
//! at once whether the watcher hears it at all.

pub mod plan;

use crate::accept::accept_each;
use crate::actor::Ctx;
use fpm_docker::activity::last_activity;
use fpm_docker::{ContainerRuntime, ContainerState};
use fpm_shared::admission::{BudgetView, Request, GO, QUEUED};
use fpm_shared::budget::Budget;
use fpm_shared::error::Chain;
use fpm_shared::{ServiceManager, Site, SystemdError};
use fpm_state::managed_sites;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use plan::{next_step, Board, Candidate, Step, Waiting};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

/// Awake sites looked up at once when one must be chosen to stop.
const LOOKS_AT_ONCE: usize = 8;

/// How often waiting starts look again for a site that has become quiet enough to stop.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// What a connection tells the admission.
enum Msg {
    /// A start asks to be let in; `go` is answered when it is.
    Start {
        ticket: u64,
        site: Site,
        go: oneshot::Sender<()>,
    },
    /// The connection ended: a waiting start gave up, or a start let in has finished.
    Ended { ticket: u64 },
    /// `status` was asked.
    Status { reply: oneshot::Sender<String> },
}

/// Serves the admission on `listener` until `token` is cancelled, under the budget `budget`
/// holds (a reload changes it; with none set, every start is let in at once).
pub async fn serve<R: ContainerRuntime, S: ServiceManager>(
    listener: UnixListener,
    ctx: Ctx<'_, R, S>,
    mut budget: watch::Receiver<Budget>,
    token: &CancellationToken,
) {
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let acceptor = tokio::spawn(accept_all(listener, tx, token.clone()));
    let mut core = Core::new(ctx, budget.borrow_and_update().clone());
    let mut look_again = tokio::time::interval(LOOK_AGAIN);
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            Ok(()) = budget.changed() => core.set_budget(budget.borrow_and_update().clone()),
            Some(msg) = rx.recv() => core.handle(msg).await,
            Some((site, result)) = core.evictions.next() => core.evicted(site, result),
            _ = look_again.tick(), if !core.waiting.is_empty() => {}
        }
        core.decide().await;
    }
    acceptor.abort();
}

/// Says which budget is in force.
fn log_budget(budget: &Budget) {
    if budget.enabled() {
        tracing::info!(
            max_awake = budget.max_awake,
            max_starting = budget.max_starting,
            min_awake_secs = budget.min_awake_secs,
            min_idle_secs = budget.min_idle_secs,
            "admission of starts: budget of awake sites set"
        );
    } else {
        tracing::info!("admission of starts: no budget of awake sites set, starts are not held");
    }
}

/// Accepts every connection into a task of its own until `token` is cancelled: never behind a
/// decision that waits on Docker.
async fn accept_all(listener: UnixListener, tx: mpsc::Sender<Msg>, token: CancellationToken) {
    let mut next_ticket = 0u64;
    accept_each(&listener, &token, "admission", |stream| {
        next_ticket += 1;
        tokio::spawn(connection(stream, tx.clone(), next_ticket));
    })
    .await;
}

/// One connection: its request, then its answer.
async fn connection(stream: UnixStream, tx: mpsc::Sender<Msg>, ticket: u64) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let line = match tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await {
        Ok(Ok(Some(line))) => line,
        _ => return,
    };
    match Request::parse(&line) {
        Some(Request::Start(site)) => {
            if write
                .write_all(format!("{QUEUED}\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
            let (go, admitted) = oneshot::channel();
            if tx.send(Msg::Start { ticket, site, go }).await.is_err() {
                return;
            }
            // Let in, or the client gave up (closed) first.
            let let_in = tokio::select! {
                r = admitted => r.is_ok(),
                _ = lines.next_line() => false,
            };
            if let_in && write.write_all(format!("{GO}\n").as_bytes()).await.is_ok() {
                // Held while the container starts; its end (or anything) ends the start.
                let _ = lines.next_line().await;
            }
            let _ = tx.send(Msg::Ended { ticket }).await;
        }
        Some(Request::Status) => {
            let (reply, answer) = oneshot::channel();
            if tx.send(Msg::Status { reply }).await.is_ok() {
                if let Ok(json) = answer.await {
                    let _ = write.write_all(format!("{json}\n").as_bytes()).await;
                }
            }
        }
        None => {
            let _ = write
                .write_all(b"error: expected \"start SITE\" or \"status\"\n")
                .await;
        }
    }
}

/// A stop made to make room, and how it ended.
type Eviction<'a> = BoxFuture<'a, (Site, Result<(), SystemdError>)>;

/// What the admission holds between decisions.
struct Core<'a, R, S> {
    ctx: Ctx<'a, R, S>,
    /// The budget in force.
    budget: Budget,
    /// Waiting starts, oldest first, with when each came and how to let it in.
    waiting: Vec<(Waiting, Instant, oneshot::Sender<()>)>,
    /// Starts let in and not finished.
    admitted: HashMap<u64, Site>,
    /// Sites being stopped to make room.
    evicting: BTreeSet<Site>,
    evictions: FuturesUnordered<Eviction<'a>>,
    /// Whether the oldest start's wait for a quiet site was logged.
    told_no_victim: bool,
}

impl<'a, R: ContainerRuntime, S: ServiceManager> Core<'a, R, S> {
    fn new(ctx: Ctx<'a, R, S>, budget: Budget) -> Self {
        log_budget(&budget);
        ctx.metrics.budget().set_max_awake(budget.max_awake);
        Core {
            ctx,
            budget,
            waiting: Vec::new(),
            admitted: HashMap::new(),
            evicting: BTreeSet::new(),
            evictions: FuturesUnordered::new(),
            told_no_victim: false,
        }
    }

    /// Puts `budget` in force from the next decision on.
    fn set_budget(&mut self, budget: Budget) {
        log_budget(&budget);
        self.ctx.metrics.budget().set_max_awake(budget.max_awake);
        self.budget = budget;
        self.told_no_victim = false;
    }

    async fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Start { ticket, site, go } => {
                self.waiting
                    .push((Waiting { ticket, site }, Instant::now(), go));
            }
            Msg::Ended { ticket } => {
                if self.admitted.remove(&ticket).is_some() {
                    return;
                }
                if let Some(i) = self.waiting.iter().position(|w| w.0.ticket == ticket) {
                    let (w, since, _) = self.waiting.remove(i);
                    let waited_ms = since.elapsed().as_millis() as u64;
                    tracing::warn!(site = %w.site, unit = %self.ctx.layout.fpm_unit(&w.site), waited_ms,
                        "start gave up waiting for room: its held requests are answered 503");
                    self.ctx.metrics.budget().gave_up(&w.site);
                    self.told_no_victim = false;
                }
            }
            Msg::Status { reply } => {
                let awake = self.board().await.map(|b| b.awake.len());
                let _ = reply.send(self.view(awake).to_json());
            }
        }
        self.ctx.metrics.budget().set_waiting(self.waiting.len());
    }

    fn evicted(&mut self, site: Site, result: Result<(), SystemdError>) {
        self.evicting.remove(&site);
        let unit = self.ctx.layout.fpm_unit(&site);
        match result {
            Ok(()) => tracing::info!(site = %site, %unit, "stopped to make room"),
            Err(e) => {
                tracing::error!(site = %site, %unit, error = %Chain(&e), "stop to make room failed")
            }
        }
    }

    /// The board as the plan sees it, with the awake sites as Docker says now.
    async fn board(&self) -> Option<Board> {
        let running = match self.ctx.docker.running().await {
            Ok(names) => names,
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "admission: cannot list running containers; starts wait");
                return None;
            }
        };
        let managed: BTreeSet<Site> = match managed_sites(self.ctx.layout) {
            Ok(sites) => sites.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "admission: cannot list the sites; starts wait");
                return None;
            }
        };
        let awake = running
            .iter()
            .filter_map(|name| self.ctx.layout.site_of_container(name))
            .filter(|site| managed.contains(site))
            .collect();
        Some(Board {
            waiting: self.waiting.iter().map(|w| w.0.clone()).collect(),
            starting: self.admitted.values().cloned().collect(),
            awake,
            evicting: self.evicting.clone(),
        })
    }

    /// Lets in what may go in, and makes room when it is needed and can be made.
    async fn decide(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let Some(mut board) = self.board().await else {
            return;
        };
        let budget = self.budget.clone();
        // Read once a round, when room is first needed: one look at each awake site.
        let mut candidates: Option<Vec<Candidate>> = None;
        loop {
            match next_step(&board, &budget) {
                Step::Admit(ticket) => self.admit(ticket, &mut board),
                Step::MakeRoom => match self.victim(&board, &mut candidates).await {
                    Some(site) => self.evict(site, &mut board),
                    None => {
                        if !self.told_no_victim {
                            let w = &board.waiting[0];
                            tracing::info!(site = %w.site, unit = %self.ctx.layout.fpm_unit(&w.site),
                                awake = board.awake.len(), max_awake = budget.max_awake,
                                "start waits for room: no awake site is quiet and old enough to stop");
                            self.told_no_victim = true;
                        }
                        break;
                    }
                },
                Step::Wait => break,
            }
        }
        self.ctx.metrics.budget().set_waiting(self.waiting.len());
    }

    fn admit(&mut self, ticket: u64, board: &mut Board) {
        let Some(i) = self.waiting.iter().position(|w| w.0.ticket == ticket) else {
            return;
        };
        let (w, since, go) = self.waiting.remove(i);
        board.waiting.retain(|b| b.ticket != ticket);
        let waited = since.elapsed();
        if go.send(()).is_ok() {
            board.starting.insert(w.site.clone());
            self.admitted.insert(ticket, w.site.clone());
            self.ctx.metrics.budget().admitted(waited);
            if waited >= LOOK_AGAIN {
                tracing::info!(site = %w.site, unit = %self.ctx.layout.fpm_unit(&w.site),
                    waited_ms = waited.as_millis() as u64, "start let in after waiting for room");
            }
        }
        self.told_no_victim = false;
    }

    /// The awake site to stop, of those not starting, waiting or already being stopped; the
    /// candidates are looked up the first time in a round (`read`) and the victim taken out.
    async fn victim(&self, board: &Board, read: &mut Option<Vec<Candidate>>) -> Option<Site> {
        if read.is_none() {
            let busy: BTreeSet<&Site> = board
                .starting
                .iter()
                .chain(board.waiting.iter().map(|w| &w.site))
                .chain(&board.evicting)
                .collect();
            let sites = board.awake.iter().filter(|s| !busy.contains(s));
            let looked: Vec<Option<Candidate>> = futures::stream::iter(sites)
                .map(|site| self.candidate(site))
                .buffer_unordered(LOOKS_AT_ONCE)
                .collect()
                .await;
            *read = Some(looked.into_iter().flatten().collect());
        }
        let candidates = read.as_mut().expect("read above");
        let victim = plan::choose_victim(candidates, &self.budget, chrono::Utc::now())?;
        candidates.retain(|c| c.site != victim);
        Some(victim)
    }

    /// What the plan needs to judge an awake site; `None` when unsure (never stopped then).
    async fn candidate(&self, site: &Site) -> Option<Candidate> {
        let container = self.ctx.layout.container(site);
        let (state, last_log) = fpm_docker::activity::activity(self.ctx.docker, &container).await;
        let ContainerState::Running {
            started_at: Some(awake_since),
        } = state
        else {
            return None;
        };
        Some(Candidate {
            site: site.clone(),
            awake_since,
            last_active: last_activity(Some(awake_since), &last_log)?,
        })
    }

    fn evict(&mut self, site: Site, board: &mut Board) {
        let unit = self.ctx.layout.fpm_unit(&site);
        let (awake, max_awake) = (board.awake.len(), self.budget.max_awake);
        let for_site = board.waiting.first().map(|w| w.site.to_string());
        tracing::info!(site = %site, %unit, awake, max_awake, for_site,
            "stopping the site quiet longest to make room (a drained stop through its unit)");
        self.ctx.metrics.evicting(&site, Instant::now());
        self.evicting.insert(site.clone());
        board.evicting.insert(site.clone());
        let systemd = self.ctx.systemd;
        self.evictions.push(Box::pin(
            async move { (site, systemd.stop_unit(&unit).await) },
        ));
    }

    fn view(&self, awake: Option<usize>) -> BudgetView {
        let names = |it: &mut dyn Iterator<Item = &Site>| it.map(|s| s.to_string()).collect();
        BudgetView {
            max_awake: self.budget.max_awake,
            max_starting: self.budget.max_starting,
            awake,
            starting: names(&mut self.admitted.values()),
            waiting: names(&mut self.waiting.iter().map(|w| &w.0.site)),
            evicting: names(&mut self.evicting.iter()),
        }
    }
}
