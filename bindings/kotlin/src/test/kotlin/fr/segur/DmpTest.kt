package fr.segur

import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.time.Instant
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * The DMP against `segur sandbox` (dmp.md): status → authorize (with the patient's consent) →
 * send → find → get, as `suspend` calls; the refusals (DMP code, opposition, RNIV rule 28) and
 * the outbox dashboard. The acting professional is the sandbox's `[practitioner]` unless given.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DmpTest {
    private lateinit var sandbox: Sandbox
    private lateinit var client: SegurClient
    private lateinit var request: String
    private val actor = Actor(user = "kotlin-dmp", rpps = "10000000001", finess = "010000001")
    private val me = "810000001239"

    /** Creates the identity, INSi → RECUP, identity card → QUAL. */
    private fun qualify(localId: String, input: IdentityInput) = runBlocking {
        client.identityCreate(localId, input, false, actor)
        assertEquals("00", client.identitySearchInsi(localId, actor).result.code)
        assertEquals(IdentityStatus.QUALIFIEE, client.identityAddDocument(localId, "CN", actor).status)
    }

    /** A VSM for a recorded patient (the request file's `patient` is "IPP-0001"). */
    private fun vsm(localId: String): BuiltDocument =
        client.cdaVsmBuild(request.replace("\"patient\": \"IPP-0001\"", "\"patient\": \"$localId\""))

    @BeforeAll
    fun start() {
        val path = System.getProperty("segur.vsm.request")?.takeIf { it.isNotEmpty() }
            ?: error("system property segur.vsm.request is not set")
        request = File(path).readText()
        sandbox = Sandbox()
        client = SegurClient.open(sandbox.config)
    }

    @AfterAll
    fun stop() {
        if (::client.isInitialized) client.close()
        if (::sandbox.isInitialized) sandbox.close()
    }

    @Test
    fun statusAuthorizeSendFind(): Unit = runBlocking {
        qualify(
            "kt-pt",
            IdentityInput(nomNaissance = "PAT-TROIS", prenoms = "DOMINIQUE MARIE-LOUISE", dateNaissance = "1979-03-28", sexe = "F"),
        )
        assertEquals("kt-pt", client.identityByIns("279035121518989"))
        val who = client.defaultPractitioner()
        assertNotNull(who)
        assertEquals(me, who.idNat)

        // TD0.2: a DMP, we are not authorised yet: feeding allowed, consulting not.
        val st = client.dmpStatus("kt-pt")
        assertTrue(st.exists && !st.closed && st.canFeed && !st.canConsult, st.toString())
        assertEquals(DmpAccess.NON_AUTORISE, st.authorization)
        assertNull(st.feedBlocked)

        // Consulting now is refused by the DMP, with its code.
        val refused = assertThrows<SegurException.ServiceRefused> { runBlocking { client.dmpFind("kt-pt") } }
        assertEquals(202u, refused.code)
        assertEquals("DMP_ACCES_NON_AUTORISE", refused.subcode)
        assertFalse(refused.retryable)

        // TD0.3 with the patient's consent; the explicit practitioner is the configured one.
        val access = client.dmpAuthorize("kt-pt", DmpConsent(mode = DmpConsentMode.ORAL), who)
        assertEquals(DmpAccess.AUTORISE, access)
        assertTrue(client.dmpAuthorizations("kt-pt").any { it.idNat == me && it.status == DmpAccess.AUTORISE })

        // Send a VSM built for this qualifiée identity, masked to other professionals.
        val doc = vsm("kt-pt")
        val sent = client.dmpSend("kt-pt", doc.xml.toByteArray(), DmpSendOptions(maskPs = true))
        assertEquals(doc.id, sent.uniqueId)
        assertEquals(DmpDocumentStatus.ACCESSIBLE, sent.status)
        assertEquals("Accessible dans le DMP", sent.statusLabel)
        val board = client.dmpDashboard(DmpDocumentQuery(patientLocalId = "kt-pt"))
        assertEquals(listOf(sent.uniqueId), board.map { it.uniqueId })
        assertTrue("MASQUE_PS" in board[0].confidentiality)

        // Find (two queries at once): ours among the VSMs, newest first.
        val vsms = async { client.dmpFind("kt-pt", DmpFindQuery(typeCodes = listOf("SYNTH"))) }
        val latest = async { client.dmpLatestVsm("kt-pt") }
        val found = vsms.await()
        assertTrue(found.all { it.typeCode == "SYNTH" }, found.toString())
        val mine = found.first { it.uniqueId == sent.uniqueId }
        assertEquals("approved", mine.status)
        assertTrue(mine.masked)
        val created = assertNotNull(mine.creationTime)
        assertTrue(created.isAfter(Instant.now().minusSeconds(3600)) && created.isBefore(Instant.now().plusSeconds(60)))
        assertEquals(sent.uniqueId, latest.await()?.uniqueId)
        val future = DmpFindQuery(since = Instant.now().plusSeconds(86400))
        assertTrue(client.dmpFind("kt-pt", future).isEmpty())

        // Get: the same bytes.
        val got = client.dmpGet("kt-pt", sent.uniqueId)
        assertContentEquals(doc.xml.toByteArray(), got.content)
        assertEquals(sent.uniqueId, got.entry.uniqueId)

        // Delete: the dashboard follows, the entry is found among the deleted ones.
        client.dmpUpdate("kt-pt", sent.uniqueId, DmpUpdate.DELETE)
        val row = client.dmpDashboard(DmpDocumentQuery(patientLocalId = "kt-pt")).single()
        assertEquals(DmpDocumentStatus.DELETED, row.status)
        assertEquals("Supprimé dans le DMP", row.statusLabel)
        val deleted = client.dmpFind("kt-pt", DmpFindQuery(statuses = listOf(DmpAvailability.DELETED)))
        assertTrue(deleted.any { it.uniqueId == sent.uniqueId && it.status == "deleted" })

        // Every call is journaled on the dmp channel, as this professional.
        val rows = client.exchanges(ExchangeQuery(channel = "dmp", patientLocalId = "kt-pt"))
        assertTrue(rows.size >= 8, rows.size.toString())
        assertTrue(rows.all { it.practitioner == me && it.insQualified })
        assertTrue(rows.any { it.status == "fault" }, "the refused find is journaled")
    }

    @Test
    fun oppositionIsNotSentAndKept(): Unit = runBlocking {
        qualify(
            "kt-tc",
            IdentityInput(nomNaissance = "TCHITCHI", prenoms = "CATARINA", dateNaissance = "1936-06-21", sexe = "F"),
        )
        val st = client.dmpStatus("kt-tc")
        assertTrue(st.feedingOpposed && !st.canFeed)
        assertEquals(DmpFeedBlocked.FEEDING_OPPOSED, st.feedBlocked)
        val doc = vsm("kt-tc")
        val e = assertThrows<SegurException.NotSent> { runBlocking { client.dmpSend("kt-tc", doc.xml.toByteArray()) } }
        assertEquals(106u, e.code)
        assertEquals(106u, e.code())
        assertEquals(DmpFeedBlocked.FEEDING_OPPOSED, e.blocked)
        assertTrue(e.fields.isEmpty())
        assertFalse(e.reason.contains("TCHITCHI"))
        val row = client.dmpDashboard(DmpDocumentQuery(status = DmpDocumentStatus.FAILED)).single { it.patientLocalId == "kt-tc" }
        assertEquals(doc.id, row.uniqueId)
        assertNotNull(row.lastError)
        assertThrows<SegurException.NotSent> { runBlocking { client.dmpRetry(doc.id) } }
        assertEquals(DmpFeedBlocked.FEEDING_OPPOSED, row.notSentReason)
    }

    @Test
    fun traitsMismatchStopsFeedingUntilConfirmed(): Unit = runBlocking {
        // DMP/CONF.01: the sandbox DMP knows NESSI NATHALIE as RUTH.
        qualify(
            "kt-nn",
            IdentityInput(nomNaissance = "NESSI", prenoms = "NATHALIE", dateNaissance = "1977-07-14", sexe = "F"),
        )
        val st = client.dmpStatus("kt-nn")
        assertEquals(DmpFeedBlocked.TRAITS_MISMATCH, st.feedBlocked)
        assertFalse(st.canFeed || st.traitsConfirmed)
        val doc = vsm("kt-nn")
        val e = assertThrows<SegurException.NotSent> { runBlocking { client.dmpSend("kt-nn", doc.xml.toByteArray()) } }
        assertEquals(DmpFeedBlocked.TRAITS_MISMATCH, e.blocked)
        assertEquals(listOf("prenoms"), e.fields)
        assertFalse(e.reason.contains("RUTH"))
        assertEquals(listOf("prenoms"), client.dmpConfirmTraits("kt-nn"))
        assertTrue(client.dmpStatus("kt-nn").traitsConfirmed)
        val sent = client.dmpRetry(doc.id)
        assertEquals(DmpDocumentStatus.ACCESSIBLE, sent.status)
        assertFalse(sent.alreadyRegistered)
    }

    @Test
    fun refusalsBeforeTheDmp(): Unit = runBlocking {
        // RNIV rule 28: a provisoire identity never reaches the DMP.
        client.identityCreate(
            "kt-prov",
            IdentityInput(nomNaissance = "MARTIN", prenoms = "PAUL", dateNaissance = "1970-01-01", sexe = "M"),
            false,
            actor,
        )
        val rniv = assertThrows<SegurException.RnivRefused> { runBlocking { client.dmpStatus("kt-prov") } }
        assertEquals(102u, rniv.code)
        assertThrows<SegurException.NotFound> { runBlocking { client.dmpStatus("kt-nobody") } }
        assertThrows<SegurException.NotFound> { client.identityByIns("181016322075140") }
        // A practitioner the VIHF cannot carry: refused locally, before any call.
        qualify(
            "kt-az",
            IdentityInput(nomNaissance = "ADRUN", prenoms = "ZOE", dateNaissance = "1975-12-31", sexe = "F"),
        )
        val nameless = Practitioner(idNat = me, nom = " ", prenom = "Camille", profession = "10")
        val e = assertThrows<SegurException.InvalidInput> { runBlocking { client.dmpStatus("kt-az", nameless) } }
        assertEquals(100u, e.code)
        assertTrue(client.exchanges(ExchangeQuery(channel = "dmp", patientLocalId = "kt-az")).isEmpty())
        assertThrows<SegurException.InvalidInput> {
            client.dmpDashboard(DmpDocumentQuery(from = Instant.MAX))
        }
    }
}
