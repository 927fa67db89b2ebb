# What `cmake --install` (and so `make package`, scripts/package.sh) puts on a machine:
# the edgeperf command, the dashboard's pages and the npm libraries they load (under
# share/edgeperf, where the dashboard looks beside its binary), the docs, and the trained
# fixture models to try it on.
include(GNUInstallDirs)
install(TARGETS edgeperf RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(EP_SHARE ${CMAKE_INSTALL_DATADIR}/edgeperf)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/web/ DESTINATION ${EP_SHARE}/web)
# Only the files the pages load (web/*.html): uPlot's script and style, three's module.
install(FILES ${CMAKE_SOURCE_DIR}/node_modules/uplot/dist/uPlot.iife.min.js
              ${CMAKE_SOURCE_DIR}/node_modules/uplot/dist/uPlot.min.css
        DESTINATION ${EP_SHARE}/node_modules/uplot/dist)
install(FILES ${CMAKE_SOURCE_DIR}/node_modules/three/build/three.module.js
              ${CMAKE_SOURCE_DIR}/node_modules/three/build/three.core.js
        DESTINATION ${EP_SHARE}/node_modules/three/build)
install(FILES ${CMAKE_SOURCE_DIR}/models/fixtures/digits_cnn.onnx
              ${CMAKE_SOURCE_DIR}/models/fixtures/digits_mlp.onnx
              ${CMAKE_SOURCE_DIR}/models/fixtures/digits_eval_inputs.npy
              ${CMAKE_SOURCE_DIR}/models/fixtures/digits_eval_labels.npy
              ${CMAKE_SOURCE_DIR}/models/fixtures/kws_dscnn.onnx
              ${CMAKE_SOURCE_DIR}/models/fixtures/kws_eval_inputs.npy
              ${CMAKE_SOURCE_DIR}/models/fixtures/kws_eval_labels.npy
              ${CMAKE_SOURCE_DIR}/models/fixtures/kws_labels.txt
        DESTINATION ${EP_SHARE}/models)

set(EP_DOC ${CMAKE_INSTALL_DATADIR}/doc/edgeperf)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${EP_DOC})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${EP_DOC}/docs)
install(FILES ${CMAKE_SOURCE_DIR}/node_modules/uplot/LICENSE DESTINATION ${EP_DOC}/licenses
        RENAME uplot.LICENSE)
install(FILES ${CMAKE_SOURCE_DIR}/node_modules/three/LICENSE DESTINATION ${EP_DOC}/licenses
        RENAME three.LICENSE)
