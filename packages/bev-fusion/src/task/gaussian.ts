// The CenterPoint Gaussian helpers live in @bevzip/driving-data, where plugins can use them too.
export { drawGaussian, gaussianKernel, gaussianRadius, heatmapRadius } from '@bevzip/driving-data';
