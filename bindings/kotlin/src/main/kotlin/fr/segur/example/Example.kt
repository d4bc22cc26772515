// Quickstart of the segur Kotlin bindings (run by ExampleTest against the sandbox).
// Usage: java ... fr.segur.example.ExampleKt <path to segur.toml>
package fr.segur.example

import fr.segur.Actor
import fr.segur.IdentityInput
import fr.segur.SegurClient
import fr.segur.SegurException
import fr.segur.checkMatricule
import kotlinx.coroutines.runBlocking

/** Checks a matricule, searches INSi, handles an error; returns what it would print. */
fun example(configPath: String): List<String> = runBlocking {
    val out = mutableListOf<String>()
    val m = checkMatricule("181016322075140", null)
    out += "matricule ${m.number} key ${m.key}: ${m.keyStatus}"
    SegurClient.open(configPath).use { client ->
        val actor = Actor(user = "demo")
        val input = IdentityInput(nomNaissance = "ADRDEUX", prenoms = "LAURENT", dateNaissance = "1981-01-01", sexe = "M")
        val r = client.insiSearch(input, confirm = false, actor = actor) // suspend
        out += "INSi CR ${r.code}: INS ${r.identity?.ins?.matricule?.matricule}"
        try {
            client.identityGet("no-such-patient")
        } catch (e: SegurException.NotFound) {
            out += "error ${e.code}: ${e.reason}"
        }
    }
    out
}

fun main(args: Array<String>) {
    example(args.firstOrNull() ?: "segur.toml").forEach(::println)
}
