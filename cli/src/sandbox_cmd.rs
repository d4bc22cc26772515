//! `segur sandbox`: the simulated national services on 127.0.0.1, until Ctrl-C.

use std::path::PathBuf;

use serde_json::json;

use crate::output::Out;

pub async fn sandbox(out: &Out, dir: PathBuf, port_base: u16, outage: bool) -> u8 {
    let sb = match segur_sandbox::Sandbox::start(segur_sandbox::SandboxOptions {
        port_base,
        ..segur_sandbox::SandboxOptions::new(dir)
    })
    .await
    {
        Ok(s) => s,
        Err(e) => return out.fail("sandbox", &e.to_string()),
    };
    sb.insi_faults().set_outage(outage);
    if out.json {
        out.json(&json!({
            "ok": true,
            "insi": sb.insi_url(),
            "dmp": sb.dmp_url(),
            "config": sb.settings_path(),
            "dir": sb.dir(),
            "idam": sb.settings().lps.idam,
        }));
    } else {
        println!("segur sandbox — simulated national services on 127.0.0.1");
        println!("INSi: {}", sb.insi_url());
        println!(
            "DMP: {}/{{patients,habilitations,registry,repository}}",
            sb.dmp_url()
        );
        println!("client configuration: {}", sb.settings_path().display());
        println!("trust anchors: {}", sb.files().trust_anchors.display());
        println!(
            "client certificate (INSI-AUTO): {} (password {})",
            sb.files().client_p12.display(),
            segur_sandbox::SANDBOX_P12_PASSWORD
        );
        println!(
            "VIHF signing certificate: {}",
            sb.files().signature_pkcs12.display()
        );
        println!("IDAM accepted: {}", sb.settings().lps.idam);
        println!(
            "INSi faults: POST {} with outage=on|off or delay_ms=N",
            sb.insi_url().replace("/lps", "/sandbox/insi/faults")
        );
        println!(
            "DMP faults: POST https://{}/sandbox/dmp/faults with fault=soap|off, delay_ms=N, malformed=on|off or lost_answers=N",
            sb.dmp_addr()
        );
        println!("press Ctrl-C to stop");
    }
    println!("ready");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    0
}
