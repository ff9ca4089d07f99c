//! A symbol-server client that no one here wrote, for the mirror's tests:
//! the `symsrv` crate (samply's downloader) fetches `<name> <hash>` through
//! an `_NT_SYMBOL_PATH`-style path (e.g. `srv*<dir>*http://127.0.0.1:8787`)
//! and prints the path of the file it wrote. Run by `tests/mirror/`.
//!
//! Usage: `symsrv_get <symbol path> <name> <hash> [<name> <hash>]…`

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((path, pairs)) = args.split_first() else {
        eprintln!("usage: symsrv_get <symbol path> <name> <hash> [<name> <hash>]...");
        return ExitCode::from(2);
    };
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        eprintln!("usage: symsrv_get <symbol path> <name> <hash> [<name> <hash>]...");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let downloader = symsrv::SymsrvDownloader::new(symsrv::parse_nt_symbol_path(path));
    let mut code = ExitCode::SUCCESS;
    for pair in pairs.chunks(2) {
        let [name, hash] = pair else { continue };
        match runtime.block_on(downloader.get_file(name, hash)) {
            Ok(file) => println!("{}", file.display()),
            Err(e) => {
                println!("error {name} {hash}: {e}");
                code = ExitCode::FAILURE;
            }
        }
    }
    code
}
