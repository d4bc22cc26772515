package fr.segur

import fr.segur.example.example
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals

/** Runs the quickstart of docs/readme-kotlin.md (src/main/kotlin/fr/segur/example/Example.kt). */
class ExampleTest {
    @Test
    fun quickstartRunsAgainstTheSandbox() {
        Sandbox().use { sandbox ->
            val out = example(sandbox.config)
            assertEquals(3, out.size, out.toString())
            assertEquals("matricule 1810163220751 key 40: VALID", out[0])
            assertEquals("INSi CR 00: INS 181016322075140", out[1])
            assertEquals("error 103: no identity with this identifier", out[2])
        }
    }
}
