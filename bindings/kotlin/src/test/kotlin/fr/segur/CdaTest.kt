package fr.segur

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.io.File
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * Documents (CDA R2) against `segur sandbox`: a VSM built for a qualifiée identity, then parsed,
 * integrated, turned into XDS metadata and a PDF copy; the ANS example VSM; refused inputs.
 * The request is `cli/examples/vsm-request.json` (system property `segur.vsm.request`), the ANS
 * examples come from `segur.reference` (both set by scripts/checks/40-kotlin.sh).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CdaTest {
    private lateinit var sandbox: Sandbox
    private lateinit var client: SegurClient
    private lateinit var request: String
    private val actor = Actor(user = "kotlin-cda", rpps = "10000000001", finess = "010000001")
    private val ins = "181016322075140"

    private fun adrdeux() = IdentityInput(
        nomNaissance = "ADRDEUX",
        prenoms = "LAURENT",
        dateNaissance = "1981-01-01",
        sexe = "M",
    )

    /** The request for another patient (the file's `patient` is "IPP-0001"). */
    private fun requestFor(localId: String): String {
        val r = request.replace("\"patient\": \"IPP-0001\"", "\"patient\": \"$localId\"")
        check(r != request || localId == "IPP-0001") { "no \"patient\": \"IPP-0001\" in the request" }
        return r
    }

    /** The VSM built for IPP-0001 (qualifiée), once. */
    private val built: BuiltDocument by lazy { client.cdaVsmBuild(request) }

    @BeforeAll
    fun start() {
        val path = System.getProperty("segur.vsm.request")?.takeIf { it.isNotEmpty() }
            ?: error("system property segur.vsm.request is not set")
        request = File(path).readText()
        sandbox = Sandbox()
        client = SegurClient.open(sandbox.config)

        // IPP-0001 → RECUP (INSi) → QUAL (CN): the INS may then be written in a document.
        assertEquals(IdentityStatus.PROVISOIRE, client.identityCreate("IPP-0001", adrdeux(), false, actor).status)
        val found = runBlocking { client.identitySearchInsi("IPP-0001", actor) }
        assertEquals("00", found.result.code)
        assertEquals(IdentityStatus.RECUPEREE, found.identity.status)
        val qualified = client.identityAddDocument("IPP-0001", "CN", actor)
        assertEquals(IdentityStatus.QUALIFIEE, qualified.status)
        assertEquals(ins, qualified.transmissibleIns?.matricule?.matricule)
    }

    @AfterAll
    fun stop() {
        if (::client.isInitialized) client.close()
        if (::sandbox.isInitialized) sandbox.close()
    }

    private fun assertInvalidDocument(what: String, block: () -> Unit) {
        val e = assertThrows<SegurException.InvalidDocument>(what) { block() }
        assertEquals(105u, e.code, what)
        assertEquals(105u, e.code(), what)
        assertTrue(e.reason.isNotEmpty(), what)
    }

    // ---- a VSM built, then read back ----------------------------------------------------------

    @Test
    fun vsmForQualifieeIdentityCarriesTheIns() {
        assertTrue(built.withIns)
        assertTrue(built.xml.contains(ins), "the INS of a qualifiée identity is written")
        assertTrue(built.xml.contains("ClinicalDocument"))
        assertTrue(built.id.isNotEmpty())
        assertTrue(built.setId.isNotEmpty())
        // A new build is a new document.
        assertFalse(client.cdaVsmBuild(request).id == built.id)
    }

    @Test
    fun vsmForProvisoireIdentityHasNoIns() {
        client.identityCreate("IPP-0002", adrdeux(), false, actor)
        val doc = client.cdaVsmBuild(requestFor("IPP-0002"))
        assertFalse(doc.withIns)
        assertFalse(doc.xml.contains(ins), "no INS leaves from a provisoire identity (rule 28)")
        assertNull(cdaParse(doc.xml.toByteArray()).patientIns)
    }

    @Test
    fun builtVsmParses() {
        val parsed = cdaParse(built.xml.toByteArray())
        assertEquals(built.id, parsed.id)
        assertEquals(built.setId, parsed.setId)
        assertEquals(1u, parsed.version)
        assertEquals("Synthèse médicale", parsed.title)
        assertEquals("SYNTH", parsed.typeCode.code)
        assertNotNull(parsed.vsmVersion)
        assertNull(parsed.mediaType)
        assertEquals(ins, parsed.patientIns?.matricule)
        assertTrue(parsed.items.size >= 10, parsed.items.toString())
        assertTrue(parsed.items.any { it.kind == CdaItemKind.PATHOLOGIE && it.code?.code == "G45.9" })
        assertTrue(parsed.items.any { it.kind == CdaItemKind.TRAITEMENT })
        assertTrue(parsed.items.any { it.kind == CdaItemKind.ALLERGIE })
        assertEquals(parsed.items.size, parsed.items.map { it.id }.toSet().size, "ids are unique")
        assertTrue(parsed.json.startsWith("{") && parsed.json.contains("\"items\""))
        // The same document always yields the same ids.
        assertEquals(parsed.items, cdaParse(built.xml.toByteArray()).items)
    }

    @Test
    fun builtVsmIntegratesTheSelectionOnly() {
        val xml = built.xml.toByteArray()
        val items = cdaParse(xml).items
        val pathologie = items.first { it.kind == CdaItemKind.PATHOLOGIE }
        val traitement = items.first { it.kind == CdaItemKind.TRAITEMENT }
        val summary = cdaIntegrate(xml, listOf(pathologie.id, traitement.id))
        assertTrue(summary.startsWith("{"), summary)
        assertTrue(summary.contains(pathologie.code!!.code), summary)
        assertTrue(summary.contains(traitement.label), summary)
        val notChosen = items.first { it.kind == CdaItemKind.ALLERGIE }
        assertFalse(summary.contains(notChosen.label), "only the selection is integrated")
        val empty = cdaIntegrate(xml, emptyList())
        assertFalse(empty.contains(pathologie.code!!.code))
        val e = assertThrows<SegurException.InvalidInput> { cdaIntegrate(xml, listOf("no-such:item")) }
        assertEquals(100u, e.code)
    }

    @Test
    fun builtVsmMetadataCarriesTheIns() {
        val meta = cdaMetadataJson(built.xml.toByteArray())
        assertTrue(meta.contains(ins), "patientId")
        assertTrue(meta.contains(built.id), "uniqueId")
        assertTrue(meta.contains("SYNTH"), "typeCode")
    }

    @Test
    fun builtVsmPdfCopy() {
        val copy = cdaPdf(built.xml.toByteArray())
        assertTrue(copy.pdf.size > 100)
        assertEquals("%PDF-", String(copy.pdf, 0, 5, Charsets.US_ASCII))
        assertTrue(copy.fileName.endsWith(".pdf"), copy.fileName)
        assertTrue(copy.fileName.contains("ADRDEUX"), copy.fileName)
    }

    // ---- the ANS example ------------------------------------------------------------------

    @Test
    fun ansExampleVsm() {
        val reference = System.getProperty("segur.reference") ?: ""
        val file = File(reference, "cda/ExemplesCDA/VSM_1.4_2022.01.xml")
        assumeTrue(file.isFile, "ANS example not found: $file (set SEGUR_REFERENCE)")
        val xml = file.readBytes()
        val parsed = cdaParse(xml)
        assertTrue(parsed.title.isNotEmpty())
        assertEquals("SYNTH", parsed.typeCode.code)
        assertNotNull(parsed.vsmVersion)
        assertTrue(parsed.items.isNotEmpty())
        val ids = parsed.items.take(2).map { it.id }
        assertTrue(cdaIntegrate(xml, ids).startsWith("{"))
        assertTrue(cdaMetadataJson(xml).contains("\"unique_id\""))
        assertEquals("%PDF-", String(cdaPdf(xml).pdf, 0, 5, Charsets.US_ASCII))
    }

    // ---- refused inputs -------------------------------------------------------------------

    @Test
    fun refusedDocumentsAreInvalidDocument() {
        val bad = mapOf(
            "not CDA" to "<html><body>hello</body></html>",
            "wrong namespace" to "<ClinicalDocument xmlns=\"urn:example\"/>",
            "DOCTYPE" to "<?xml version=\"1.0\"?><!DOCTYPE ClinicalDocument [<!ENTITY x \"y\">]>" +
                "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">&x;</ClinicalDocument>",
            "not XML" to "not xml at all",
            "empty" to "",
            "empty ClinicalDocument" to "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>",
        )
        for ((what, text) in bad) {
            val xml = text.toByteArray()
            assertInvalidDocument("parse: $what") { cdaParse(xml) }
            assertInvalidDocument("integrate: $what") { cdaIntegrate(xml, emptyList()) }
            assertInvalidDocument("metadata: $what") { cdaMetadataJson(xml) }
            assertInvalidDocument("pdf: $what") { cdaPdf(xml) }
        }
    }

    @Test
    fun malformedRequestIsInvalidInput() {
        for (bad in listOf("", "{", "{}", "[]", request.replace("\"ipp_root\"", "\"ipp_rot\""))) {
            val e = assertThrows<SegurException.InvalidInput> { client.cdaVsmBuild(bad) }
            assertEquals(100u, e.code)
        }
    }

    @Test
    fun unknownPatientIsNotFound() {
        val e = assertThrows<SegurException.NotFound> { client.cdaVsmBuild(requestFor("IPP-nobody")) }
        assertEquals(103u, e.code)
        assertFalse(e.reason.contains("IPP-nobody"))
    }
}
