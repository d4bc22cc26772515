package fr.segur

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The bindings against `segur sandbox` (one sandbox and one client for the class). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SegurClientTest {
    private lateinit var sandbox: Sandbox
    private lateinit var client: SegurClient
    private val actor = Actor(user = "kotlin-test", rpps = "10000000001", finess = "010000001")

    private fun adrdeux() = IdentityInput(
        nomNaissance = "ADRDEUX",
        prenoms = "LAURENT",
        dateNaissance = "1981-01-01",
        sexe = "M",
    )

    private fun houilles() = IdentityInput(
        nomNaissance = "HOUILLES",
        prenoms = "PIERRE PAUL JACQUES",
        dateNaissance = "1993-01-27",
        sexe = "M",
    )

    @BeforeAll
    fun start() {
        sandbox = Sandbox()
        client = SegurClient.open(sandbox.config)
    }

    @AfterAll
    fun stop() {
        if (::client.isInitialized) client.close()
        if (::sandbox.isInitialized) sandbox.close()
    }

    // ---- top-level functions ---------------------------------------------------------------

    @Test
    fun versionIsSet() {
        assertTrue(version().isNotEmpty())
    }

    @Test
    fun matriculeWithValidKey() {
        val m = checkMatricule("181016322075140", null)
        assertEquals("1810163220751", m.number)
        assertEquals("40", m.key)
        assertEquals(KeyStatus.VALID, m.keyStatus)
        assertNull(m.expectedKey)
        val computed = checkMatricule("1810163220751", null)
        assertEquals(KeyStatus.COMPUTED, computed.keyStatus)
        assertEquals("181016322075140", computed.matricule)
        assertEquals(KeyStatus.VALID, checkMatricule("1810163220751", "40").keyStatus)
    }

    @Test
    fun matriculeWithBadKeyIsInvalidInput() {
        val e = assertThrows<SegurException.InvalidInput> { checkMatricule("181016322075141", null) }
        assertEquals(100u, e.code)
        assertTrue(e.reason.isNotEmpty())
        assertThrows<SegurException.InvalidInput> { checkMatricule("1810163220751", "41") }
    }

    @Test
    fun malformedMatriculesAreExceptionsNotCrashes() {
        for (bad in listOf("", "   ", "12", "18101632207514x", "\u0000\u0000", "é".repeat(15))) {
            val e = assertThrows<SegurException> { checkMatricule(bad, null) }
            assertEquals(100u, e.code(), "for ${bad.length} characters")
        }
    }

    @Test
    fun normalizeNeedsConfirmationWithProposal() {
        val e = assertThrows<SegurException.NeedsConfirmation> {
            normalize(NameField.NOM_NAISSANCE, "D\u2019\u00c6ION", false)
        }
        assertEquals(101u, e.code)
        assertEquals("D'AEION", e.proposal)
        assertFalse(e.reason.contains("AEION"), "the reason must not repeat the name")
        assertEquals("D'AEION", normalize(NameField.NOM_NAISSANCE, "D\u2019\u00c6ION", true))
        assertEquals("JEAN-PIERRE", normalize(NameField.PRENOM, "  jean-pierre ", false))
    }

    // ---- identities and INSi ---------------------------------------------------------------

    @Test
    fun identityWorkflowToQualifiee() {
        val created = client.identityCreate("kt-adrdeux", adrdeux(), false, actor)
        assertEquals(IdentityStatus.PROVISOIRE, created.status)
        assertEquals("ADRDEUX", created.traits.nomNaissance)
        assertNull(created.ins)

        val found = runBlocking { client.identitySearchInsi("kt-adrdeux", actor) }
        assertEquals("00", found.result.code)
        assertEquals("181016322075140", found.result.identity?.ins?.matricule?.matricule)
        assertEquals(IdentityStatus.RECUPEREE, found.identity.status)
        assertEquals("181016322075140", found.identity.ins?.matricule?.matricule)
        assertNull(found.identity.transmissibleIns, "an INS leaves only from a qualifiée identity")

        val qualified = client.identityAddDocument("kt-adrdeux", "CN", actor)
        assertEquals(IdentityStatus.QUALIFIEE, qualified.status)
        assertEquals("181016322075140", qualified.transmissibleIns?.matricule?.matricule)
        assertEquals(listOf("CN"), qualified.documents.map { it.code })
        assertEquals(qualified, client.identityGet("kt-adrdeux"))
        assertTrue(qualified.history.any { it.toStatus == IdentityStatus.QUALIFIEE })

        val rows = client.exchanges(ExchangeQuery(patientLocalId = "kt-adrdeux"))
        assertTrue(rows.isNotEmpty())
        assertTrue(rows.all { it.channel.isNotEmpty() && it.requestSha256.length == 64 })
        assertEquals("00", rows.first().resultCode)
        assertEquals("10000000001", rows.first().practitioner)

        // Rule 26: the strict traits of a qualifiée identity are not edited without confirmation.
        val e = assertThrows<SegurException.RnivRefused> {
            client.identityEditTraits("kt-adrdeux", houilles(), false, false, "typo", actor)
        }
        assertEquals(102u, e.code)
        assertEquals(IdentityStatus.QUALIFIEE, client.identityGet("kt-adrdeux").status)
    }

    @Test
    fun houillesIsNotFoundByInsi() = runBlocking {
        val r = client.insiSearch(houilles(), false, actor)
        assertEquals("01", r.code)
        assertNull(r.identity)
        assertTrue(r.attempts.isNotEmpty())
        assertTrue(r.attempts.all { it.code == "01" })
    }

    @Test
    fun concurrentSearches() = runBlocking {
        val results = (1..4).map { i ->
            async { client.insiSearch(if (i % 2 == 0) adrdeux() else houilles(), false, actor) }
        }.awaitAll()
        assertEquals(listOf("01", "00", "01", "00"), results.map { it.code })
    }

    @Test
    fun exchangesFilteredByTime() = runBlocking {
        val before = Instant.now().minusSeconds(5)
        client.insiSearch(houilles(), false, actor)
        val rows = client.exchanges(ExchangeQuery(from = before, to = Instant.now().plusSeconds(5), limit = 100u))
        assertTrue(rows.any { it.resultCode == "01" && it.patientLocalId == null })
        assertTrue(client.exchanges(ExchangeQuery(to = before.minusSeconds(3600))).isEmpty())
        val e = assertThrows<SegurException.InvalidInput> { client.exchanges(ExchangeQuery(from = Instant.MAX)) }
        assertEquals(100u, e.code)
    }

    @Test
    fun attributes() {
        client.identityCreate("kt-attr", adrdeux(), false, actor)
        val v = client.identitySetAttribute("kt-attr", RnivAttribute.DOUTEUSE, true, "checking", actor)
        assertTrue(v.attributes.douteuse)
        assertFalse(v.attributes.fictive)
    }

    @Test
    fun unknownLocalIdIsNotFound() {
        val e = assertThrows<SegurException.NotFound> { client.identityGet("kt-nobody") }
        assertEquals(103u, e.code)
        assertThrows<SegurException.NotFound> { client.identityAddDocument("kt-nobody", "CN", actor) }
        assertThrows<SegurException.NotFound> {
            client.identitySetAttribute("kt-nobody", RnivAttribute.FICTIVE, true, "r", actor)
        }
        assertThrows<SegurException.NotFound> {
            runBlocking { client.identitySearchInsi("kt-nobody", actor) }
        }
    }

    @Test
    fun duplicateLocalIdIsRefused() {
        client.identityCreate("kt-dup", adrdeux(), false, actor)
        val e = assertThrows<SegurException> { client.identityCreate("kt-dup", adrdeux(), false, actor) }
        assertEquals(104u, e.code(), e.toString())
    }

    @Test
    fun createNeedsConfirmationThenConfirmed() {
        val odd = adrdeux().copy(nomNaissance = "D\u2019\u00c6ION")
        val e = assertThrows<SegurException.NeedsConfirmation> { client.identityCreate("kt-conf", odd, false, actor) }
        assertEquals("D'AEION", e.proposal)
        assertThrows<SegurException.NotFound> { client.identityGet("kt-conf") }
        assertEquals("D'AEION", client.identityCreate("kt-conf", odd, true, actor).traits.nomNaissance)
    }

    @Test
    fun badInputsAreExceptionsNotCrashes() {
        val bad = listOf(
            adrdeux().copy(nomNaissance = ""),
            adrdeux().copy(prenoms = "   "),
            adrdeux().copy(nomNaissance = "ADR2"),
            adrdeux().copy(dateNaissance = ""),
            adrdeux().copy(dateNaissance = "1981-01"),
            adrdeux().copy(dateNaissance = "01/01/1981"),
            adrdeux().copy(sexe = "X"),
            adrdeux().copy(sexe = ""),
            adrdeux().copy(lieuNaissance = "ABC"),
            IdentityInput("", "", "", ""),
        )
        for ((i, input) in bad.withIndex()) {
            val e = assertThrows<SegurException.InvalidInput>("input #$i") {
                client.identityCreate("kt-bad-$i", input, false, actor)
            }
            assertEquals(100u, e.code)
            assertThrows<SegurException.InvalidInput>("search #$i") {
                runBlocking { client.insiSearch(input, false, actor) }
            }
        }
        assertThrows<SegurException.InvalidInput> { client.identityCreate("", adrdeux(), false, actor) }
        assertThrows<SegurException.InvalidInput> { client.identityCreate("   ", adrdeux(), false, actor) }
    }

    @Test
    fun missingConfigIsConfigError() {
        val e = assertThrows<SegurException.Config> { SegurClient.open("/nonexistent/segur.toml") }
        assertEquals(400u, e.code)
    }
}

/** The stable code of any [SegurException]. */
fun SegurException.code(): UInt = when (this) {
    is SegurException.InvalidInput -> code
    is SegurException.NeedsConfirmation -> code
    is SegurException.RnivRefused -> code
    is SegurException.NotFound -> code
    is SegurException.AlreadyExists -> code
    is SegurException.InvalidDocument -> code
    is SegurException.NotSent -> code
    is SegurException.TooLarge -> code
    is SegurException.ServiceFault -> code
    is SegurException.InvalidReply -> code
    is SegurException.ServiceRefused -> code
    is SegurException.Transport -> code
    is SegurException.Timeout -> code
    is SegurException.Tls -> code
    is SegurException.Config -> code
    is SegurException.Journal -> code
    is SegurException.Internal -> code
}
