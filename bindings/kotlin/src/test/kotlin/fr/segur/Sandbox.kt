package fr.segur

import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.nio.file.Files
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * `segur sandbox` on loopback, in a temporary folder; `config` is the client configuration it
 * writes. The CLI comes from SEGUR_BIN (set by scripts/test and scripts/checks/40-kotlin.sh).
 */
class Sandbox : AutoCloseable {
    val dir: File = Files.createTempDirectory("segur-kotlin-sandbox").toFile()
    private val process: Process
    val config: String get() = File(dir, "segur.toml").path

    init {
        val bin = System.getenv("SEGUR_BIN")?.takeIf { it.isNotEmpty() }
            ?: error("SEGUR_BIN is not set (path to the segur CLI)")
        require(File(bin).canExecute()) { "SEGUR_BIN=$bin is not executable" }
        process = ProcessBuilder(bin, "sandbox", "--dir", dir.path, "--port-base", "0")
            .redirectErrorStream(true)
            .start()
        val lines = LinkedBlockingQueue<String>()
        val reader = Thread {
            BufferedReader(InputStreamReader(process.inputStream)).useLines { seq ->
                seq.forEach { lines.put(it) }
            }
            lines.put("<eof>")
        }
        reader.isDaemon = true
        reader.start()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
        val seen = StringBuilder()
        while (true) {
            val left = deadline - System.nanoTime()
            val line = if (left > 0) lines.poll(left, TimeUnit.NANOSECONDS) else null
            if (line == null || line == "<eof>") {
                close()
                error("sandbox did not start:\n$seen")
            }
            seen.appendLine(line)
            if (line.trim() == "ready") break
        }
    }

    override fun close() {
        if (process.isAlive) {
            process.destroy()
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
        }
        dir.deleteRecursively()
    }
}
