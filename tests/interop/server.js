// The stock CAP server, listening on 127.0.0.1 only (CAP listens on every interface by default). The port
// comes from PORT, chosen by the test.
const cds = require('@sap/cds')
cds.on('bootstrap', app => {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, '127.0.0.1', ...rest)
})
module.exports = cds.server
