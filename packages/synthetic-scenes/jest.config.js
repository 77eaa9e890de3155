// No suite here touches tensors, so the preset's tfjs backend setup (and with it @bevzip/ir) is left out.
module.exports = { ...require('../../jest.preset.js'), displayName: require('./package.json').name, setupFilesAfterEnv: [] };
