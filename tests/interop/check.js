// Reads {"digitalLinks": [...], "epcisDocuments": [...]} on stdin and answers, on
// stdout, what GS1's own JavaScript tools make of each: digital-link.js's isValid
// for the links, epcis2.js's validateEpcisDocument (schema, event fields and
// extensions) for the documents.
const { DigitalLink } = require('digital-link.js');
const { validateEpcisDocument } = require('epcis2.js');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { digitalLinks = [], epcisDocuments = [] } = JSON.parse(input);
  const links = digitalLinks.map((uri) => {
    try {
      const dl = DigitalLink(uri);
      return { uri, valid: dl.isValid(), gtin: dl.getIdentifier()['01'] || null,
               keyQualifiers: dl.getKeyQualifiers() };
    } catch (error) {
      return { uri, valid: false, error: String(error) };
    }
  });
  const documents = epcisDocuments.map((document) => {
    const result = validateEpcisDocument(document, false);
    return { success: result.success, errors: result.errors || [] };
  });
  process.stdout.write(JSON.stringify({ links, documents }));
});
