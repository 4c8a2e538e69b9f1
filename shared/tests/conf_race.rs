//! A conf swapped between a regular file and something else while it is read: what the reader
//! opens is only ever the regular file. Opening a device can act (`/dev/watchdog` arms a reboot),
//! so a check before the open is not enough; a FIFO shows it here, since a writer blocked in
//! opening it is released by any reader's open.

use fpm_shared::conf::read_conf;
use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn a_conf_swapped_for_a_fifo_while_it_is_read_is_never_opened_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let (file, fifo, conf) = (
        dir.path().join("real"),
        dir.path().join("fifo"),
        dir.path().join("blog.conf"),
    );
    std::fs::write(
        &file,
        "# Amount of time to pause the container after: 20m\n",
    )
    .unwrap();
    mkfifo(&fifo);
    symlink(&file, &conf).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // A writer waiting for a reader of the FIFO: it gets through only if someone opens it.
    let opened = Arc::new(AtomicBool::new(false));
    let writer = {
        let (fifo, opened) = (fifo.clone(), opened.clone());
        std::thread::spawn(move || {
            let _w = std::fs::OpenOptions::new().write(true).open(&fifo);
            opened.store(true, Ordering::SeqCst);
        })
    };
    // The tenant: swaps the link between the file and the FIFO as fast as it can.
    let swapper = {
        let (stop, dir) = (stop.clone(), dir.path().to_owned());
        let (file, fifo, conf) = (file.clone(), fifo.clone(), conf.clone());
        std::thread::spawn(move || {
            let tmp = dir.join("swap");
            let mut to_fifo = true;
            while !stop.load(Ordering::SeqCst) {
                let _ = std::fs::remove_file(&tmp);
                symlink(if to_fifo { &fifo } else { &file }, &tmp).unwrap();
                std::fs::rename(&tmp, &conf).unwrap();
                to_fifo = !to_fifo;
            }
        })
    };
    let begun = Instant::now();
    let mut reads = 0;
    while begun.elapsed() < Duration::from_secs(3) && !opened.load(Ordering::SeqCst) {
        let _ = read_conf(&conf);
        reads += 1;
    }
    stop.store(true, Ordering::SeqCst);
    swapper.join().unwrap();
    let hit = opened.load(Ordering::SeqCst);
    if !hit {
        // Release the writer: open the FIFO ourselves.
        let _r = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        writer.join().unwrap();
    }
    assert!(
        !hit,
        "read_conf opened the FIFO swapped in after its check ({reads} reads)"
    );
    assert!(reads > 1000, "the race was tried: {reads} reads");
}
