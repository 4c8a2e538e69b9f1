//! Unit tests of `php_fpm` (the ondemand crate).
use super::php_fpm_command;

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn php_fpm_is_found_in_the_command_with_its_arguments() {
    // The official images: an entrypoint script, then php-fpm.
    let entry = words(&["docker-php-entrypoint"]);
    assert_eq!(
        php_fpm_command(&[], &entry, &words(&["php-fpm"])),
        ["php-fpm"]
    );
    // Debian's binary, a main configuration of its own: kept, so php-fpm reads the same.
    let given = words(&["/usr/sbin/php-fpm8.2", "-F", "-y", "/etc/site.conf"]);
    assert_eq!(php_fpm_command(&given, &words(&["sh"]), &[]), given);
    // A start script the binary is not named in: php-fpm on the image's PATH.
    let script = words(&["/start.sh"]);
    assert_eq!(php_fpm_command(&[], &[], &script), ["php-fpm"]);
}
